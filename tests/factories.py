"""factory_boy factories shared by every app's tests."""

import datetime as dt

import factory
from django.contrib.auth.models import Group

from labqms.models import (
    Activity,
    Authorisation,
    Delegation,
    Qualification,
    QualificationKind,
    Role,
    StaffProfile,
    User,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"测试用户{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw-for-tests-1")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or []:
            self.groups.add(Group.objects.get_or_create(name=Role(role).value)[0])
        self.__dict__.pop("_role_names", None)


class StaffProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffProfile

    user = factory.SubFactory(UserFactory)
    job_title = "检定员"
    department = "医学计量室"


class AuthorisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Authorisation

    person = factory.SubFactory(UserFactory, roles=[Role.TECHNICIAN])
    activity = Activity.PERFORM_VERIFICATION
    valid_from = dt.date(2024, 1, 1)
    valid_until = dt.date(2030, 12, 31)
    competence_confirmed_on = dt.date(2024, 1, 1)
    authorised_by = factory.SubFactory(UserFactory, roles=[Role.LAB_HEAD])


class QualificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Qualification

    person = factory.SubFactory(UserFactory, roles=[Role.TECHNICIAN])
    kind = QualificationKind.VERIFIER_CERTIFICATE
    number = factory.Sequence(lambda n: f"YJJ-{n:05d}")
    valid_from = dt.date(2024, 1, 1)
    valid_until = dt.date(2030, 12, 31)


class DelegationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Delegation

    lead = factory.SubFactory(UserFactory, roles=[Role.TECHNICAL_LEAD])
    deputy = factory.SubFactory(UserFactory, roles=[Role.TECHNICIAN])
    role = Role.TECHNICAL_LEAD
    valid_from = dt.date(2026, 11, 1)
    valid_until = dt.date(2026, 11, 30)
    reason = "外出培训"
    created_by = factory.SubFactory(UserFactory, roles=[Role.LAB_HEAD])
