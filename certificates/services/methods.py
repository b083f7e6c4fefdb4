"""Method editions (R-TST-3) and record templates, approved by the technical lead.

Approving a new edition supersedes the current edition of the same code; approving a
template version retires the previous version of that method.  Versions in use never
change: editing an approved template starts a new draft version (:func:`new_version`).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certificates.models import Method, MethodStatus, RecordTemplate, TemplatePoint, TemplateStatus
from labqms import audit, permissions

METHOD_FIELDS = ("code", "edition", "title", "kind", "effective_on", "notes")
TEMPLATE_FIELDS = (
    "name", "quantity", "unit", "repeats", "resolution", "range_low", "range_high",
    "temperature_min", "temperature_max", "humidity_min", "humidity_max",
    "other_conditions", "inspection_items", "default_coverage_factor", "notes",
)
POINT_FIELDS = ("label", "nominal", "tolerance_kind", "tolerance", "default_uncertainty")


def _locked_method(method: Method) -> Method:
    return Method.objects.select_for_update().get(pk=method.pk)


def save_method(*, actor, data: dict, categories, method: Method | None = None) -> Method:
    """Create a method edition (awaiting approval) or change one still awaiting approval."""
    permissions.require(actor, "records.manage_methods")
    data = {k: v for k, v in data.items() if k in METHOD_FIELDS}
    data["code"] = " ".join(str(data.get("code", "")).split())
    with transaction.atomic():
        if method is None:
            if Method.objects.filter(code=data["code"], edition=data["edition"]).exists():
                raise ValidationError({"edition": _("%(code)s-%(edition)s is already registered.") % data})
            method = Method.objects.create(created_by=actor, **data)
            method.categories.set(categories)
            audit.record(actor=actor, action="method.created", target=method, changes={"status": [None, method.status]})
            return method
        method = _locked_method(method)
        if method.status != MethodStatus.DRAFT:
            raise ValidationError(_("An approved edition does not change; register a new edition instead."))
        # Compare as stored text: a date from a form is not JSON (audit) and "2011-07-01"
        # from a script equals the stored date.
        before = audit.snapshot(method, data)
        for key, value in data.items():
            setattr(method, key, value)
        method.full_clean()
        changes = audit.diff(before, audit.snapshot(method, data))
        method.save()
        old = sorted(method.categories.values_list("code", flat=True))
        method.categories.set(categories)
        new = sorted(c.code for c in categories)
        if old != new:
            changes["categories"] = [old, new]
        if changes:
            audit.record(actor=actor, action="method.updated", target=method, changes=changes)
        return method


def approve_method(*, actor, method: Method) -> Method:
    """The edition becomes current; the current edition of the same code is superseded."""
    permissions.require(actor, "records.manage_methods")
    today = timezone.localdate()
    with transaction.atomic():
        method = _locked_method(method)
        if method.status != MethodStatus.DRAFT:
            raise ValidationError(_("Only an edition awaiting approval can be approved."))
        if not method.categories.exists():
            raise ValidationError(_("Name the instrument categories this method applies to before approving it."))
        previous = list(
            Method.objects.select_for_update().filter(code=method.code, status=MethodStatus.CURRENT).exclude(pk=method.pk)
        )
        for old in previous:
            if old.edition > method.edition:
                raise ValidationError(
                    _("%(old)s is newer than %(new)s; an older edition cannot replace it.")
                    % {"old": old.full_code, "new": method.full_code}
                )
        method.status = MethodStatus.CURRENT
        method.status_changed_on = today
        method.approved_by = actor
        method.approved_at = timezone.now()
        method.save(update_fields=["status", "status_changed_on", "approved_by", "approved_at"])
        audit.record(actor=actor, action="method.approved", target=method, changes={"status": [MethodStatus.DRAFT, MethodStatus.CURRENT]})
        for old in previous:
            old.status = MethodStatus.SUPERSEDED
            old.superseded_by = method
            old.status_changed_on = today
            old.save(update_fields=["status", "superseded_by", "status_changed_on"])
            audit.record(
                actor=actor, action="method.superseded", target=old,
                changes={"status": [MethodStatus.CURRENT, MethodStatus.SUPERSEDED], "superseded_by": [None, method.full_code]},
            )
    return method


def withdraw_method(*, actor, method: Method, reason: str) -> Method:
    permissions.require(actor, "records.manage_methods")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the method is withdrawn.")})
    with transaction.atomic():
        method = _locked_method(method)
        if method.status not in (MethodStatus.CURRENT, MethodStatus.DRAFT):
            raise ValidationError(_("%(code)s is already %(status)s.") % {"code": method.full_code, "status": method.get_status_display()})
        old = method.status
        method.status = MethodStatus.WITHDRAWN
        method.withdrawal_reason = reason
        method.status_changed_on = timezone.localdate()
        method.save(update_fields=["status", "withdrawal_reason", "status_changed_on"])
        audit.record(actor=actor, action="method.withdrawn", target=method, changes={"status": [old, method.status]}, reason=reason)
    return method


def _clean_points(points: list[dict]) -> list[dict]:
    if not points:
        raise ValidationError({"points": _("A template needs at least one measurement point.")})
    cleaned = []
    for index, point in enumerate(points, start=1):
        row = {k: point.get(k) for k in POINT_FIELDS}
        if row["nominal"] is None:
            raise ValidationError({"points": _("Point %(n)s has no nominal value.") % {"n": index}})
        if row["tolerance"] is not None and row["tolerance"] < 0:
            raise ValidationError({"points": _("Point %(n)s: the permissible error cannot be negative.") % {"n": index}})
        row["label"] = row["label"] or ""
        row["tolerance_kind"] = row["tolerance_kind"] or "absolute"
        cleaned.append(row)
    return cleaned


def _check_template(data: dict, points: list[dict]) -> None:
    errors = {}
    for low, high in (("range_low", "range_high"), ("temperature_min", "temperature_max"), ("humidity_min", "humidity_max")):
        if data.get(low) is not None and data.get(high) is not None and data[low] > data[high]:
            errors[high] = _("The upper limit is below the lower limit.")
    if data.get("resolution") is not None and data["resolution"] <= 0:
        errors["resolution"] = _("The resolution must be positive.")
    if any(p["tolerance_kind"] == "range" for p in points) and data.get("range_high") is None:
        # xgettext:no-python-format
        errors["range_high"] = _("A tolerance in % of range needs the measuring range.")
    for condition in data.get("other_conditions") or []:
        if not condition.get("name"):
            errors["other_conditions"] = _("Every other condition needs a name.")
    if errors:
        raise ValidationError(errors)


def save_template(*, actor, method: Method, data: dict, points: list[dict], template: RecordTemplate | None = None) -> RecordTemplate:
    """Create the next draft version of ``method``'s template, or change a draft."""
    permissions.require(actor, "records.manage_methods")
    data = {k: v for k, v in data.items() if k in TEMPLATE_FIELDS}
    data["inspection_items"] = [str(i).strip() for i in data.get("inspection_items") or [] if str(i).strip()]
    points = _clean_points(points)
    _check_template(data, points)
    with transaction.atomic():
        if template is None:
            last = RecordTemplate.objects.select_for_update().filter(method=method).order_by("-version").first()
            if last is not None and last.status == TemplateStatus.DRAFT:
                raise ValidationError(
                    _("Version %(v)s is still a draft; change it instead of starting another version.") % {"v": last.version}
                )
            template = RecordTemplate.objects.create(
                method=method, version=(last.version + 1) if last else 1, created_by=actor, **data
            )
            action = "template.created"
        else:
            template = RecordTemplate.objects.select_for_update().get(pk=template.pk)
            if not template.is_editable:
                raise ValidationError(_("Version %(v)s is in use and does not change; start a new version.") % {"v": template.version})
            for key, value in data.items():
                setattr(template, key, value)
            template.save()
            template.points.all().delete()
            action = "template.updated"
        TemplatePoint.objects.bulk_create(
            [TemplatePoint(template=template, position=i, **p) for i, p in enumerate(points, start=1)]
        )
        audit.record(
            actor=actor, action=action, target=template,
            changes={"points": [None, [_point_text(p) for p in points]]},
        )
    return template


def _point_text(point: dict) -> str:
    tolerance = point.get("tolerance")
    nominal = point["nominal"]
    text = format(nominal.normalize() if isinstance(nominal, Decimal) else nominal, "f")
    if isinstance(tolerance, Decimal):
        tolerance = format(tolerance.normalize(), "f")
    return f"{text} ±{tolerance}" if tolerance is not None else text


def new_version(*, actor, template: RecordTemplate) -> RecordTemplate:
    """A draft copy of ``template`` (points included) to edit into the next version."""
    data = {key: getattr(template, key) for key in TEMPLATE_FIELDS}
    points = [{key: getattr(p, key) for key in POINT_FIELDS} for p in template.points.all()]
    return save_template(actor=actor, method=template.method, data=data, points=points)


def approve_template(*, actor, template: RecordTemplate) -> RecordTemplate:
    permissions.require(actor, "records.manage_methods")
    with transaction.atomic():
        template = RecordTemplate.objects.select_for_update().select_related("method").get(pk=template.pk)
        if template.status != TemplateStatus.DRAFT:
            raise ValidationError(_("Only a draft version can be approved."))
        if template.method.status not in (MethodStatus.CURRENT, MethodStatus.DRAFT):
            raise ValidationError(_("%(code)s is no longer current; its templates are not approved.") % {"code": template.method.full_code})
        retired = list(
            RecordTemplate.objects.select_for_update().filter(method=template.method, status=TemplateStatus.ACTIVE)
        )
        for old in retired:
            old.status = TemplateStatus.RETIRED
            old.save(update_fields=["status"])
        template.status = TemplateStatus.ACTIVE
        template.approved_by = actor
        template.approved_at = timezone.now()
        template.save(update_fields=["status", "approved_by", "approved_at"])
        audit.record(
            actor=actor, action="template.approved", target=template,
            changes={"status": [TemplateStatus.DRAFT, TemplateStatus.ACTIVE], "replaces": [None, [f"v{t.version}" for t in retired]]},
        )
    return template


def current_methods(category, service: str):
    """Editions that may be chosen for new work on ``category`` × ``service``."""
    return Method.objects.filter(status=MethodStatus.CURRENT, kind=service, categories=category).order_by("code")
