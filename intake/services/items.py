"""Checking instrument lines, shared by the order form, the spreadsheet import and the
portal request: the same rules and the same messages wherever the lines come from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext as _

from intake.models import AuthorisedScope, Disposition, InstrumentCategory, Service
from intake.models.items import SERIAL_SPLIT

LINE_FIELDS = (
    "instrument_name",
    "category",
    "model",
    "serial_number",
    "no_serial",
    "manufacturer",
    "asset_number",
    "quantity",
    "accessories",
    "service",
    "special_requirements",
)
ORDER_LINE_FIELDS = LINE_FIELDS + ("disposition", "disposition_reason", "subcontractor")


@dataclass
class LineErrors:
    """Errors of one line, by field ("__all__" for the line as a whole)."""

    line: int
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def messages(self) -> list[str]:
        return [m for msgs in self.errors.values() for m in msgs]


def split_serials(text: str) -> list[str]:
    return [s for s in SERIAL_SPLIT.split((text or "").strip()) if s]


def clean_lines(
    lines: list[dict], *, on: date, check_scope: bool, first_line: int = 1
) -> tuple[list[dict], list[LineErrors]]:
    """Normalise and check ``lines`` (dicts of ``LINE_FIELDS``, category as an
    ``InstrumentCategory``).  Returns the cleaned lines and the errors of the bad ones;
    the caller saves nothing unless the error list is empty.

    * instrument name and category are required; quantity is at least 1;
    * one serial number per unit unless "no serial number" is ticked;
    * a serial number appears only once in the whole order;
    * the service defaults to the category's proposal (compulsory → verification);
    * with ``check_scope``, a line outside the authorised scope must be refused or
      subcontracted with a reason (R-INT-2) — never accepted silently.
    """
    cleaned: list[dict] = []
    problems: list[LineErrors] = []
    seen_serials: dict[str, int] = {}
    for offset, raw in enumerate(lines):
        number = first_line + offset
        errors = LineErrors(number)
        line = {name: raw.get(name) for name in ORDER_LINE_FIELDS}
        for name in ("instrument_name", "model", "serial_number", "manufacturer",
                     "asset_number", "accessories", "special_requirements",
                     "disposition_reason", "subcontractor"):
            line[name] = str(line[name] or "").strip()
        line["no_serial"] = bool(line["no_serial"])
        if not line["instrument_name"]:
            errors.add("instrument_name", _("Enter the instrument name."))
        category = line["category"]
        if not isinstance(category, InstrumentCategory):
            errors.add("category", _("Choose an instrument category."))
            category = None
        elif not category.is_active:
            errors.add("category", _("The category “%(name)s” is no longer in use.") % {"name": category})
        quantity = line["quantity"]
        try:
            quantity = int(quantity if quantity not in (None, "") else 1)
        except (TypeError, ValueError):
            errors.add("quantity", _("The quantity must be a whole number."))
            quantity = None
        if quantity is not None and quantity < 1:
            errors.add("quantity", _("The quantity must be at least 1."))
        line["quantity"] = quantity
        if not line["service"] and category is not None:
            line["service"] = category.proposed_service()
        if line["service"] and line["service"] not in Service.values:
            errors.add("service", _("Unknown service “%(value)s”.") % {"value": line["service"]})
        serials = [] if line["no_serial"] else split_serials(line["serial_number"])
        if line["no_serial"]:
            line["serial_number"] = ""
        elif not serials:
            errors.add(
                "serial_number",
                _("Enter the serial number, or tick “no serial number”."),
            )
        elif quantity and len(serials) != quantity:
            errors.add(
                "serial_number",
                _("%(quantity)s units need %(quantity)s serial numbers; %(count)s were entered.")
                % {"quantity": quantity, "count": len(serials)},
            )
        for serial in serials:
            key = serial.upper()
            if key in seen_serials:
                errors.add(
                    "serial_number",
                    _("Serial number %(serial)s already appears in line %(line)s.")
                    % {"serial": serial, "line": seen_serials[key]},
                )
            else:
                seen_serials[key] = number
        if serials:
            line["serial_number"] = ", ".join(serials)
        disposition = line["disposition"] or Disposition.ACCEPT
        if disposition not in Disposition.values:
            errors.add("disposition", _("Unknown disposition."))
        line["disposition"] = disposition
        line["in_scope"] = True
        if check_scope and category is not None and line["service"] in Service.values:
            line["in_scope"] = AuthorisedScope.covers(category, line["service"], on)
            if not line["in_scope"] and disposition == Disposition.ACCEPT:
                errors.add(
                    "disposition",
                    _(
                        "“%(category)s” × %(service)s is outside the lab's authorised scope: "
                        "refuse it or subcontract it, with a reason."
                    )
                    % {"category": category, "service": Service(line["service"]).label},
                )
        if disposition != Disposition.ACCEPT and not line["disposition_reason"]:
            errors.add("disposition_reason", _("Give the reason for refusing or subcontracting."))
        if disposition == Disposition.SUBCONTRACT and not line["subcontractor"]:
            errors.add("subcontractor", _("Name the subcontractor."))
        cleaned.append(line)
        if errors:
            problems.append(errors)
    return cleaned, problems
