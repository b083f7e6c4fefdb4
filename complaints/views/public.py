"""The public complaint form (R-CMP-2 "online"; no sign-in) and its thank-you page.

Spam is kept out without any third-party service: a honeypot field hidden by the
stylesheet (filled in → the robot is shown the thank-you page and nothing is stored), a
signed time stamp (sent faster than 3 s or more than 2 h after the form was shown →
refused, the input kept), at most 3 web links in the text, and a limit of submissions
per client address (→ 429).  The thank-you page shows the number of the complaint just
sent — carried in a signed parameter, so it cannot be made to show anything else.
"""

from __future__ import annotations

import logging

from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods

from complaints.forms_public import PublicComplaintForm, issue_token, token_for_retry
from complaints.models import Channel
from complaints.services import complaints as services
from labqms.forms import add_service_errors

log = logging.getLogger(__name__)

SUBMISSIONS = 10  # POSTs per address and window: room for a person correcting typos, not for a robot
WINDOW_SECONDS = 60 * 60
THANKS_SALT = "complaints.public_thanks"
THANKS_MAX_AGE = 60 * 60


def _client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _over_limit(request) -> bool:
    """Counts this submission; True once the address has sent more than ``SUBMISSIONS``
    in the window."""
    key = f"complaints:public:{_client_address(request)}"
    cache.add(key, 0, WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, WINDOW_SECONDS)
        count = 1
    return count > SUBMISSIONS


def _thanks_url(number: str = "") -> str:
    url = reverse("complaints:public_thanks")
    return f"{url}?ref={signing.dumps(number, salt=THANKS_SALT)}" if number else url


def _render(request, form, *, status=200, limited=False):
    return render(
        request,
        "complaints/public_form.html",
        {
            "form": form,
            "token": token_for_retry(form.data.get("token", "")) if form.is_bound else issue_token(),
            "limited": limited,
            "files_dropped": bool(request.FILES) and form.is_bound,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def public_form(request):
    if request.method != "POST":
        return _render(request, PublicComplaintForm())
    form = PublicComplaintForm(request.POST, request.FILES)
    if _over_limit(request):
        return _render(request, form, status=429, limited=True)
    if form.is_trap():
        log.info("Public complaint form: honeypot filled from %s; nothing stored.", _client_address(request))
        return redirect(_thanks_url())
    if form.is_valid():
        try:
            complaint = services.register(
                actor=None, channel=Channel.ONLINE, data=form.complaint_data(),
                attachments=form.cleaned_data["attachments"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect(_thanks_url(complaint.number))
    return _render(request, form)


@require_GET
def public_thanks(request):
    try:
        number = signing.loads(request.GET.get("ref", ""), salt=THANKS_SALT, max_age=THANKS_MAX_AGE)
    except signing.BadSignature:
        number = ""
    return render(request, "complaints/public_thanks.html", {"number": number if isinstance(number, str) else ""})


urlpatterns = [
    path("complain/", public_form, name="public_form"),
    path("complain/thanks/", public_thanks, name="public_thanks"),
]
