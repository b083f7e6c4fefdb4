"""The elements of the management system an audit programme must cover over its cycle:
the clauses of ISO/IEC 17025:2017 (the provincial standard's elements map onto them)."""

from django.utils.translation import gettext_lazy as _

CLAUSES: list[tuple[str, object]] = [
    ("4.1", _("Impartiality")),
    ("4.2", _("Confidentiality")),
    ("5", _("Structural requirements")),
    ("6.2", _("Personnel")),
    ("6.3", _("Facilities and environmental conditions")),
    ("6.4", _("Equipment")),
    ("6.5", _("Metrological traceability")),
    ("6.6", _("Externally provided products and services")),
    ("7.1", _("Review of requests, tenders and contracts")),
    ("7.2", _("Selection, verification and validation of methods")),
    ("7.4", _("Handling of test or calibration items")),
    ("7.5", _("Technical records")),
    ("7.6", _("Evaluation of measurement uncertainty")),
    ("7.7", _("Ensuring the validity of results")),
    ("7.8", _("Reporting of results")),
    ("7.9", _("Complaints")),
    ("7.10", _("Nonconforming work")),
    ("7.11", _("Control of data and information management")),
    ("8.2", _("Management system documentation")),
    ("8.3", _("Control of management system documents")),
    ("8.4", _("Control of records")),
    ("8.5", _("Actions to address risks and opportunities")),
    ("8.6", _("Improvement")),
    ("8.7", _("Corrective actions")),
    ("8.8", _("Internal audits")),
    ("8.9", _("Management reviews")),
]
CLAUSE_CODES = [code for code, _title in CLAUSES]
CLAUSE_TITLES = dict(CLAUSES)
