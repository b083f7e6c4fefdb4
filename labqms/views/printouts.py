"""Printable documents as PDF, rendered on request through ``labqms.pdf``."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.http import content_disposition_header

from labqms import pdf, permissions
from labqms.selectors import people as selectors


@login_required
def person_record_pdf(request, pk):
    """A staff member's authorisation and qualification record (R-PER-4), printable."""
    permissions.require_or_404(request.user, "people.view")
    person = get_object_or_404(selectors.staff_users(), pk=pk)
    today = timezone.localdate()
    context = {**selectors.person_overview(person, today), "today": today}
    document = pdf.render_pdf("pdf/labqms/person_record.html", context, request=request)
    response = HttpResponse(document, content_type="application/pdf")
    # content_disposition_header also copes with usernames outside ASCII (RFC 6266).
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=False, filename=f"person-{person.username}.pdf"
    )
    return response
