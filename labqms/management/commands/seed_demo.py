"""Demo data: one user per role, with the authorisations later workflows need.

Idempotent: a second run finds everything in place and changes nothing.  Refused unless
DEBUG is on, because every demo account has the same published password.
"""

import datetime as dt
from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.module_loading import module_has_submodule

from labqms import audit
from labqms.models import (
    Activity,
    Authorisation,
    Delegation,
    Education,
    Qualification,
    QualificationKind,
    Role,
    RoleDescription,
    StaffProfile,
    TrainingPlan,
    TrainingRecord,
    User,
)
from labqms.services import people as services

PASSWORD = "labqms-demo"
A = Activity

# username, full name, roles, profile, activities
USERS = [
    (
        "head",
        "王建国",
        [Role.LAB_HEAD],
        {"job_title": "主任", "department": "中心办公室", "education": Education.MASTER},
        [A.HANDLE_COMPLAINTS],
    ),
    (
        "techlead",
        "李明",
        [Role.TECHNICAL_LEAD],
        {"job_title": "技术负责人", "department": "技术部", "education": Education.MASTER},
        [
            A.SIGN_CERTIFICATES,
            A.GIVE_OPINIONS,
            A.CHECK_RECORDS,
            A.PERFORM_VERIFICATION,
            A.PERFORM_CALIBRATION,
            A.OPERATE_EQUIPMENT,
        ],
    ),
    (
        "qualitylead",
        "张华",
        [Role.QUALITY_LEAD],
        {"job_title": "质量负责人", "department": "质量管理部", "education": Education.BACHELOR},
        [A.HANDLE_COMPLAINTS, A.AUDIT],
    ),
    (
        "counter",
        "陈静",
        [Role.COUNTER_STAFF],
        {"job_title": "收发员", "department": "业务受理室", "education": Education.VOCATIONAL},
        [A.RECEIVE_ORDERS],
    ),
    (
        "tech1",
        "赵磊",
        [Role.TECHNICIAN],
        {"job_title": "检定员", "department": "医学计量室", "education": Education.BACHELOR},
        [A.PERFORM_VERIFICATION, A.PERFORM_CALIBRATION, A.CHECK_RECORDS, A.OPERATE_EQUIPMENT],
    ),
    (
        "tech2",
        "孙丽",
        [Role.TECHNICIAN],
        {"job_title": "检定员", "department": "医学计量室", "education": Education.BACHELOR},
        [
            A.PERFORM_VERIFICATION,
            A.PERFORM_CALIBRATION,
            A.PERFORM_TESTING,
            A.CHECK_RECORDS,
            A.OPERATE_EQUIPMENT,
            A.AUDIT,
        ],
    ),
    (
        "techdeputy",
        "周强",
        [Role.TECHNICIAN],
        {"job_title": "技术负责人代理人", "department": "技术部", "education": Education.MASTER},
        [A.PERFORM_VERIFICATION, A.PERFORM_CALIBRATION, A.CHECK_RECORDS, A.OPERATE_EQUIPMENT],
    ),
    ("hospital1", "市第一人民医院设备科", [Role.CUSTOMER], None, []),
]
QUALIFIED = {"techlead", "tech1", "tech2", "techdeputy"}

# Role descriptions (R-PER-1), after the lab's division of duties (shared/seeds/000_*).
ROLE_DESCRIPTIONS = {
    Role.COUNTER_STAFF: {
        "duties": "受理委托（窗口、电话、网上预约），合同评审，样品接收检查、标识与流转，"
        "通知客户取件，核对费用结算后发放器具与证书。",
        "knowledge": "服务时限、收费标准、授权范围与强制检定目录；样品管理程序。",
        "training_needs": "业务受理与客户服务规范；保密要求。",
    },
    Role.TECHNICIAN: {
        "duties": "按现行有效的检定规程/校准规范实施检定、校准，如实记录原始记录；"
        "核验他人的原始记录；正确使用和维护设备。",
        "knowledge": "所从事项目的规程规范、测量不确定度评定、数据修约规则（GB/T 8170）。",
        "qualifications": "持有效检定员证，持证上岗；经授权方可从事相应项目。",
        "training_needs": "新规程宣贯、设备操作、能力验证与比对。",
    },
    Role.TECHNICAL_LEAD: {
        "duties": "全面负责技术运作：重大技术问题决策，检测方法的确认与开发，设备操作指导书"
        "及技术文件的审批，技术人员能力确认与授权，批准签发证书；保证技术资源。",
        "knowledge": "计量法规、检定规程与校准规范、测量不确定度、量值溯源。",
        "qualifications": "相关专业中级及以上技术职称，熟悉本机构全部检定校准项目。",
        "training_needs": "ISO/IEC 17025 与评审准则、新技术新方法。",
    },
    Role.QUALITY_LEAD: {
        "duties": "体系运行维护、文件控制、不符合/纠正/预防措施的组织实施、内部审核与内部监督；"
        "对外负责外审接待、客户满意度调查、客户投诉处理、分包方评价。",
        "knowledge": "管理体系标准与评审准则，内审方法，投诉处理程序。",
        "qualifications": "经培训的内审员。",
        "training_needs": "内审员培训、管理评审与持续改进方法。",
    },
    Role.LAB_HEAD: {
        "duties": "对机构的服务与管理全面负责：批准重大投诉处理决定，主持管理评审，"
        "任命技术负责人、质量负责人及其代理人，提供资源。",
        "knowledge": "计量法律法规、机构的管理体系。",
    },
    Role.CUSTOMER: {
        "duties": "提交委托与预约，确认委托单，查询进度，下载本单位证书，提出投诉。",
    },
}
CONFIRMED_ON = dt.date(2024, 1, 2)


class Command(BaseCommand):
    help = "Create demo users (password labqms-demo) with roles and authorisations."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo creates accounts with a published password; "
                "it runs only with DJANGO_DEBUG=1."
            )
        # Texts stored with the data (audit snapshots) are written in the lab's language.
        with (
            translation.override(settings.LANGUAGE_CODE),
            audit.source("command:seed_demo"),
            transaction.atomic(),
        ):
            for role in Role:
                Group.objects.get_or_create(name=role.value)
            users = {row[0]: self._user(*row[:4]) for row in USERS}
            head, techlead = users["head"], users["techlead"]
            for username, _name, _roles, _profile, activities in USERS:
                grantor = techlead if username == "head" else head
                for activity in activities:
                    self._authorise(grantor, users[username], activity)
                if username in QUALIFIED:
                    self._qualify(head, users[username])
            self._expired_example(head, users["tech2"])
            self._delegation(head, techlead, users["techdeputy"])
            self._training(users["qualitylead"], [users["tech1"], users["tech2"]])
            for role, text in ROLE_DESCRIPTIONS.items():
                RoleDescription.objects.get_or_create(role=role, defaults=text)
            # Each domain app may add its demo data in ``<app>/demo.py`` (``seed(users)``);
            # found by name so the kernel never imports the apps built on it.
            for app_config in apps.get_app_configs():
                if module_has_submodule(app_config.module, "demo"):
                    import_module(f"{app_config.name}.demo").seed(users)
        self.stdout.write(self.style.SUCCESS("Demo users (password: %s):" % PASSWORD))
        for username, name, roles, _profile, _acts in USERS:
            labels = ", ".join(str(Role(r).label) for r in roles)
            self.stdout.write(f"  {username:<12} {name}  [{labels}]")
        self.stdout.write(
            "  techdeputy acts as deputy of techlead (technical lead) while the "
            "demo delegation runs."
        )

    def _user(self, username, full_name, roles, profile):
        user, created = User.objects.get_or_create(
            username=username, defaults={"full_name": full_name, "email": f"{username}@example.com"}
        )
        if created:
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
            user.groups.set([Group.objects.get(name=r.value) for r in roles])
            if username == "head":
                # The lab head maintains master data in the admin site.
                user.is_staff = True
                user.is_superuser = True
                user.save(update_fields=["is_staff", "is_superuser"])
            audit.record(
                actor=None,
                action="person.created",
                target=user,
                changes={"roles": [None, sorted(r.value for r in roles)]},
            )
        if profile is not None:
            StaffProfile.objects.get_or_create(
                user=user,
                defaults={
                    **profile,
                    "employee_no": f"E{user.pk:04d}",
                    "hired_on": dt.date(2018, 3, 1),
                },
            )
        return user

    def _authorise(self, grantor, person, activity):
        if Authorisation.objects.filter(person=person, activity=activity).exists():
            return
        services.grant_authorisation(
            actor=grantor,
            person=person,
            activity=activity,
            valid_from=CONFIRMED_ON,
            valid_until=dt.date(2028, 12, 31),
            competence_confirmed_on=CONFIRMED_ON,
            note="演示数据",
        )

    def _qualify(self, actor, person):
        number = f"YJJ-2024-{person.pk:04d}"
        if Qualification.objects.filter(number=number).exists():
            return
        services.record_qualification(
            actor=actor,
            person=person,
            kind=QualificationKind.VERIFIER_CERTIFICATE,
            number=number,
            valid_from=dt.date(2024, 1, 1),
            valid_until=dt.date(2029, 12, 31),
            issued_by="省市场监督管理局",
            scope="血压计、心电图机、输液泵、医用超声源、医用诊断X射线辐射源",
        )

    def _expired_example(self, actor, person):
        number = f"YJJ-2019-{person.pk:04d}"
        if Qualification.objects.filter(number=number).exists():
            return
        services.record_qualification(
            actor=actor,
            person=person,
            kind=QualificationKind.VERIFIER_CERTIFICATE,
            number=number,
            valid_from=dt.date(2019, 1, 1),
            valid_until=dt.date(2023, 12, 31),
            issued_by="省市场监督管理局",
            scope="血压计",
        )

    def _training(self, qualitylead, attendees):
        item, _created = TrainingPlan.objects.get_or_create(
            year=2026,
            title="JJG 692-2010《无创自动测量血压计》宣贯",
            defaults={
                "audience": "医学计量室检定员",
                "planned_on": dt.date(2026, 3, 12),
                "responsible": qualitylead,
            },
        )
        TrainingPlan.objects.get_or_create(
            year=2026,
            title="内审员培训（ISO/IEC 17025）",
            defaults={
                "audience": "质量管理部及各室骨干",
                "planned_on": dt.date(2026, 12, 8),
                "responsible": qualitylead,
            },
        )
        for person in attendees:
            if not TrainingRecord.objects.filter(person=person, plan=item).exists():
                services.record_training(
                    actor=qualitylead,
                    person=person,
                    plan=item,
                    title=item.title,
                    provider="本中心",
                    started_on=dt.date(2026, 3, 12),
                    ended_on=dt.date(2026, 3, 12),
                    hours=4,
                    result=TrainingRecord.Result.PASSED,
                )

    def _delegation(self, head, lead, deputy):
        if Delegation.objects.filter(lead=lead, deputy=deputy).exists():
            return
        today = timezone.localdate()
        services.start_delegation(
            actor=head,
            lead=lead,
            deputy=deputy,
            role=Role.TECHNICAL_LEAD,
            valid_from=today,
            valid_until=today + dt.timedelta(days=30),
            reason="技术负责人外出培训期间由代理人履行职责（演示数据）",
        )
