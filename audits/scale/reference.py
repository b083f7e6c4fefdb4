"""Who works in the synthetic lab and what it works on: staff with their authorisations,
the catalogue and authorised scope, current methods with approved record templates,
customers, seals, and the one placeholder PDF every generated certificate points at."""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import random
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

# --- small helpers --------------------------------------------------------------------------


def placeholder_pdf() -> tuple[str, str]:
    """One small real PDF shared by every generated certificate: ``(storage name, sha256)``.
    The hash is that of the stored file, so verification of a download holds."""
    name = "certificates/scale/placeholder.pdf"
    if not default_storage.exists(name):
        text = "(labqms synthetic data - placeholder certificate) Tj"
        stream = f"BT /F1 12 Tf 72 770 Td {text} ET".encode()
        objects = [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
        pdf, offsets = b"%PDF-1.4\n", []
        for number, body in enumerate(objects, start=1):
            offsets.append(len(pdf))
            pdf += b"%d 0 obj\n" % number + body + b"\nendobj\n"
        xref = len(pdf)
        pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        pdf += b"".join(b"%010d 00000 n \n" % o for o in offsets)
        pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
        name = default_storage.save(name, ContentFile(pdf))
    with default_storage.open(name, "rb") as file:
        return name, hashlib.sha256(file.read()).hexdigest()


def weighted(rng: random.Random, table: list[tuple[object, float]]):
    """A chooser over ``[(value, weight)]`` (cumulative weights, bisect)."""
    values = [v for v, _w in table]
    cumulative, total = [], 0.0
    for _v, w in table:
        total += w
        cumulative.append(total)

    def choose():
        return values[bisect.bisect_left(cumulative, rng.random() * total)]

    return choose


# --- reference data: people, catalogue, methods, customers ----------------------------------

SCALE_PREFIX = "scale_"
# username suffix, role, how many, activities, department
STAFF = [
    ("counter", "counter_staff", 6, ["receive_orders"], "业务受理室"),
    ("tech", "technician", 40, ["perform_verification", "perform_calibration", "perform_testing", "check_records",
                                 "operate_equipment"], "医学计量室"),
    ("techlead", "technical_lead", 2, ["sign_certificates", "give_opinions", "check_records", "perform_verification",
                                        "perform_calibration", "operate_equipment"], "技术部"),
    ("qualitylead", "quality_lead", 1, ["handle_complaints", "audit"], "质量管理部"),
    ("head", "lab_head", 1, ["handle_complaints"], "中心办公室"),
    ("customer", "customer", 1, [], ""),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国红梅志飞鹏宇浩然子涵思雨欣怡晨阳文博佳琪雪婷海燕春晓"
CITIES = ["江宁", "鼓楼", "玄武", "秦淮", "建邺", "栖霞", "雨花台", "浦口", "六合", "溧水", "高淳", "句容", "仪征",
          "扬中", "丹阳", "溧阳", "金坛", "宜兴", "江阴", "常熟", "太仓", "昆山", "吴江", "海门", "启东", "如皋"]
KINDS = [("人民医院", 5), ("中医院", 3), ("妇幼保健院", 2), ("第二人民医院", 2), ("社区卫生服务中心", 6),
         ("口腔医院", 1), ("疾病预防控制中心", 1), ("骨科医院", 1), ("眼科医院", 1), ("肿瘤医院", 1), ("康复医院", 1)]
DEPARTMENTS = ["设备科", "医学工程部", "设备处", "后勤保障部", "检验科", ""]
MAKERS = ["迈瑞", "欧姆龙", "鱼跃", "理邦", "飞利浦", "GE", "西门子", "日本光电", "德尔格", "史密斯", "费森尤斯", "宝莱特"]


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


class Reference:
    """Who works in the synthetic lab and what it works on, created once (idempotent)."""

    def __init__(self, rng: random.Random, *, customers: int, start: dt.date, password: str | None = None):
        self.rng = rng
        self.start = start
        self._people(password)
        self._catalogue()
        self._methods()
        self._customers(customers)
        self._seals()

    def _people(self, password) -> None:
        from django.contrib.auth.hashers import make_password
        from django.contrib.auth.models import Group

        from labqms.models import Authorisation, StaffProfile, User

        hashed = make_password(password)  # unusable when None
        groups = {}
        self.by_role: dict[str, list] = {}
        for suffix, role, count, _activities, department in STAFF:
            groups[role], _ = Group.objects.get_or_create(name=role)
            people = []
            for n in range(1, count + 1):
                username = f"{SCALE_PREFIX}{suffix}{n:02d}"
                user, created = User.objects.get_or_create(
                    username=username,
                    defaults={"full_name": person_name(self.rng), "email": f"{username}@scale.example.cn", "password": hashed},
                )
                if created:
                    user.groups.add(groups[role])
                    if department:
                        StaffProfile.objects.create(user=user, department=department, job_title=role,
                                                    employee_no=f"S{user.pk:05d}", hired_on=self.start)
                people.append(user)
            self.by_role[role] = people
        head = self.by_role["lab_head"][0]
        for _suffix, role, _count, activities, _department in STAFF:
            for person in self.by_role[role]:
                have = set(Authorisation.objects.filter(person=person).values_list("activity", flat=True))
                Authorisation.objects.bulk_create(
                    Authorisation(person=person, activity=a, authorised_by=head, valid_from=self.start,
                                  competence_confirmed_on=self.start, note="synthetic data")
                    for a in activities if a not in have
                )
        self.counter = [u.pk for u in self.by_role["counter_staff"]]
        self.techs = [u.pk for u in self.by_role["technician"]]
        self.leads = [u.pk for u in self.by_role["technical_lead"]]
        self.quality = self.by_role["quality_lead"][0].pk
        self.head = head.pk
        self.names = {u.pk: u.get_full_name() for users in self.by_role.values() for u in users}

    def _catalogue(self) -> None:
        from intake.demo import CATEGORIES, LOCATIONS, NOT_AUTHORISED, SCOPE_CERTIFICATE
        from intake.models import AuthorisedScope, InstrumentCategory, StorageLocation

        for code, zh, en, compulsory, entry, service, m_code, m_title, period, days, fee in CATEGORIES:
            category, created = InstrumentCategory.objects.get_or_create(
                code=code,
                defaults={"name_zh": zh, "name_en": en, "compulsory": compulsory, "catalogue_entry": entry,
                          "default_service": service, "method_code": m_code, "method_title": m_title,
                          "verification_period_months": period, "turnaround_days": days, "standard_fee": Decimal(fee)},
            )
            if created and code not in NOT_AUTHORISED:
                AuthorisedScope.objects.create(category=category, service=service, certificate_no=SCOPE_CERTIFICATE,
                                               valid_from=self.start, valid_until=dt.date(2099, 12, 31))
        for code, name in LOCATIONS:
            StorageLocation.objects.get_or_create(code=code, defaults={"name": name})
        self.locations = list(StorageLocation.objects.filter(is_active=True).values_list("pk", flat=True))
        # Work only on what the lab is authorised for (out-of-scope lines are refused).
        in_scope = set(AuthorisedScope.objects.values_list("category_id", flat=True))
        self.categories = [c for c in InstrumentCategory.objects.filter(is_active=True).exclude(method_code="")
                           if c.pk in in_scope]
        self.out_of_scope = [c for c in InstrumentCategory.objects.filter(is_active=True) if c.pk not in in_scope]

    def _methods(self) -> None:
        from certificates.demo import TEMPLATES
        from certificates.models import (
            KIND_SERVICE,
            Method,
            MethodStatus,
            RecordTemplate,
            TemplatePoint,
            TemplateStatus,
        )

        lead = self.leads[0]
        self.method_of: dict[int, tuple] = {}  # category -> (method id, template id, method, template, points)
        service_kind = {s: k for k, s in KIND_SERVICE.items()}
        for category in self.categories:
            code, edition = category.method_code.rsplit("-", 1)
            method = Method.objects.filter(code=code, status=MethodStatus.CURRENT).first()
            if method is None:
                method = Method.objects.create(
                    code=code, edition=edition, title=category.method_title, kind=service_kind[category.default_service],
                    effective_on=dt.date(int(edition) + 1, 7, 1), status=MethodStatus.CURRENT, created_by_id=lead,
                    approved_by_id=lead, approved_at=dt.datetime(int(edition) + 1, 6, 1, tzinfo=dt.UTC),
                )
            method.categories.add(category)
            template = method.templates.filter(status=TemplateStatus.ACTIVE).order_by("-version").first()
            if template is None:
                spec = TEMPLATES.get(code) or {
                    "data": {"name": f"{method.title}原始记录", "quantity": "示值", "unit": "%", "repeats": 3,
                             "resolution": Decimal("0.1"), "inspection_items": ["外观及标志", "功能检查"]},
                    "points": [(n, "reading", Decimal("5")) for n in (10, 50, 90)],
                }
                template = RecordTemplate.objects.create(method=method, version=1, status=TemplateStatus.DRAFT,
                                                         created_by_id=lead, **spec["data"])
                TemplatePoint.objects.bulk_create(
                    TemplatePoint(template=template, position=i, nominal=row[0], tolerance_kind=row[1], tolerance=row[2],
                                  default_uncertainty=row[3] if len(row) > 3 else None)
                    for i, row in enumerate(spec["points"], start=1)
                )
                # Points are added while the template is a draft (the database's rule), then it is approved.
                RecordTemplate.objects.filter(pk=template.pk).update(status=TemplateStatus.ACTIVE, approved_by_id=lead,
                                                                     approved_at=method.approved_at)
                template.refresh_from_db()
            points = list(template.points.order_by("position"))
            self.method_of[category.pk] = (method.pk, template.pk, method, template, points)

    def _customers(self, count: int) -> None:
        from intake.models import Contact, Customer

        have = Customer.objects.count()
        new, contacts = [], []
        for n in range(have, count):
            kind = weighted(self.rng, KINDS)() if n else "人民医院"
            city = CITIES[n % len(CITIES)]
            name = f"{city}区{kind}" if n < len(CITIES) else f"{city}区第{n // len(CITIES) + 1}{kind}"
            new.append(Customer(name=name, short_name=(city + kind)[:12], address=f"{city}区健康路 {n + 1} 号",
                                department=self.rng.choice(DEPARTMENTS), phone=f"025-8{n:07d}",
                                email=f"sbk{n}@hospital.scale.example.cn" if n % 3 else "", created_by_id=self.counter[0]))
        Customer.objects.bulk_create(new, batch_size=2000)
        have_contact = set(Contact.objects.values_list("customer_id", flat=True))
        for customer in Customer.objects.exclude(pk__in=have_contact).only("pk"):
            contacts.append(Contact(customer=customer, name=person_name(self.rng), phone=f"138{customer.pk:08d}"))
        Contact.objects.bulk_create(contacts, batch_size=2000)
        rows = list(Customer.objects.values_list("pk", "name", "address", "email"))
        contact_of = dict(Contact.objects.order_by("pk").values_list("customer_id", "pk"))
        self.customers = [(pk, name, address, email, contact_of.get(pk)) for pk, name, address, email in rows]
        # A few large hospitals send most of the work (Zipf-like).
        self.pick_customer = weighted(self.rng, [(c, 1.0 / (i + 1) ** 0.8) for i, c in enumerate(self.customers)])
        from intake.models import CustomerAccount
        from labqms.models import User

        portal_user = User.objects.get(username=f"{SCALE_PREFIX}customer01")
        CustomerAccount.objects.get_or_create(user=portal_user, defaults={"customer_id": self.customers[0][0],
                                                                          "contact_id": self.customers[0][4]})

    def _seals(self) -> None:
        from certificates.models import Seal, SealKind

        self.seal_of = {}
        for kind in SealKind:
            seal = Seal.objects.filter(kind=kind, is_active=True).first()
            if seal is None:
                seal = Seal.objects.create(kind=kind, name=f"{kind.label}（合成数据）", custodian_id=self.leads[0])
            self.seal_of[kind.value] = seal.pk
