"""factory_boy factories for the domain. Reference data (countries, sectors) is loaded in
every test database, so factories refer to it by code."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from partners.models import Contact, Membership, Partner
from projects.models import Participation, Project, ProjectCountry, ProjectSector, Review
from registry.models import Sector


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-1")

    @factory.post_generation
    def persist_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    name_zh = factory.Sequence(lambda n: f"合作机构{n}")
    name_en = factory.Sequence(lambda n: f"Partner institution {n}")
    kind = Partner.Kind.ENTERPRISE
    country_id = "CN"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    partner = factory.SubFactory(PartnerFactory)
    name = factory.Sequence(lambda n: f"联系人{n}")
    email = factory.Sequence(lambda n: f"contact{n}@example.org")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    partner = factory.SubFactory(PartnerFactory)


class ProjectFactory(factory.django.DjangoModelFactory):
    """`countries=[("LA", 60), ("TH", 40)]`, `sectors=[("logistics-rail", 100)]`,
    `partners=[(partner, "partner")]` add the related rows."""

    class Meta:
        model = Project
        skip_postgeneration_save = True

    title_zh = factory.Sequence(lambda n: f"中老铁路物流项目{n}")
    title_en = factory.Sequence(lambda n: f"China-Laos railway logistics project {n}")
    summary_zh = "示范数据"
    lead_unit = factory.SubFactory(PartnerFactory)
    estimated_value = Decimal("1000000.00")
    currency = "CNY"

    @factory.post_generation
    def countries(obj, create, extracted, **kwargs):
        for iso2, share in extracted or ():
            ProjectCountry.objects.create(
                project=obj, country_id=iso2, share=None if share is None else Decimal(share)
            )

    @factory.post_generation
    def sectors(obj, create, extracted, **kwargs):
        for code, share in extracted or ():
            ProjectSector.objects.create(
                project=obj,
                sector=Sector.objects.get(code=code),
                share=None if share is None else Decimal(share),
            )

    @factory.post_generation
    def partners(obj, create, extracted, **kwargs):
        for partner, role in extracted or ():
            Participation.objects.create(project=obj, partner=partner, role=role)


class ReviewFactory(factory.django.DjangoModelFactory):
    """A review with every criterion scored 3 in the project's current round."""

    class Meta:
        model = Review

    project = factory.SubFactory(ProjectFactory)
    reviewer = factory.SubFactory(UserFactory)
    round = factory.LazyAttribute(lambda review: review.project.screening_round)
    strategic_fit = 3
    supply_chain_linkage = 3
    feasibility = 3
    partner_capacity = 3
    regional_balance = 3
    risk = 3
    weighted_score = Decimal("3.00")
    recommendation = Review.Recommendation.SELECT
    conflict_declaration = Review.ConflictDeclaration.NONE
