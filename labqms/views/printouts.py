"""Printable documents as PDF, rendered on request through ``labqms.pdf``."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404
from django.utils import timezone

from labqms import pdf, permissions
from labqms.selectors import people as selectors


@login_required
def person_record_pdf(request, pk):
    """A staff member's authorisation and qualification record (R-PER-4), printable."""
    permissions.require_or_404(request.user, "people.view")
    person = get_object_or_404(selectors.staff_users(), pk=pk)
    today = timezone.localdate()
    context = {**selectors.person_overview(person, today), "today": today}
    return pdf.pdf_response(
        "pdf/labqms/person_record.html", context, request=request, filename=f"person-{person.username}.pdf"
    )
