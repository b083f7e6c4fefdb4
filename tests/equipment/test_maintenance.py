"""Maintenance plan and log (R-EQP-2): planned by the technical lead, done by technicians."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from equipment.models import LogKind, MaintenancePlan
from equipment.services import checks
from labqms.models import AuditEvent


@pytest.mark.django_db
def test_lead_plans_maintenance_and_a_technician_logs_it(make_equipment, lead, operator, today):
    equipment = make_equipment("EQ-M")
    plan = checks.save_maintenance_plan(actor=lead, equipment=equipment, task="清洁气路", interval_months=3)
    assert AuditEvent.objects.filter(action="equipment.maintenance_planned", target_id=str(equipment.pk)).exists()
    entry = checks.log_event(actor=operator, equipment=equipment, kind=LogKind.MAINTENANCE, occurred_on=today,
                             description="已清洁", plan=plan)
    assert entry.plan == plan
    with pytest.raises(PermissionDenied):
        checks.save_maintenance_plan(actor=operator, equipment=equipment, task="x", interval_months=3)
    with pytest.raises(ValidationError):
        checks.save_maintenance_plan(actor=lead, equipment=equipment, task="", interval_months=0)


@pytest.mark.django_db
def test_maintenance_plan_form_on_the_equipment_page(client, make_equipment, lead):
    equipment = make_equipment("EQ-M")
    client.force_login(lead)
    url = reverse("equipment:maintenance_plan_add", args=[equipment.pk])
    response = client.post(url, {"maintenance-task": "检查袖带接头", "maintenance-interval_months": "6"})
    assert response.status_code == 302
    assert MaintenancePlan.objects.get(equipment=equipment).interval_months == 6
    page = client.get(reverse("equipment:equipment_detail", args=[equipment.pk]))
    assert "检查袖带接头" in page.content.decode()
