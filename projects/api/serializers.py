"""Shapes of the project resources. Serializers shape and type-check data; every rule
lives in `projects.services` / `projects.workflow`, which the views call.

Staff get the full project; partner users get `PartnerProjectSerializer`, which has no
internal fields (`internal_notes`, `risk_notes`), and the partner variant of support
decisions has no `conditions`.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from partners.api import PartnerBriefSerializer
from partners.models import Partner
from projects import access, services, workflow
from projects.history import office_name
from projects.models import (
    Participation,
    ProgressUpdate,
    Project,
    Review,
    SupportDecision,
    split_tag_names,
)
from projects.sites.serializers import SiteSerializer
from projects.validation import LIST_LIMITS, NOTE_MAX_CHARS, SHORT_TEXT_MAX_CHARS
from registry.models import Country, Sector

# --- Reading ---------------------------------------------------------------------------


class ProjectCountrySerializer(serializers.Serializer):
    country = serializers.CharField(source="country_id", help_text=_("ISO alpha-2 code."))
    name_zh = serializers.CharField(source="country.name_zh")
    name_en = serializers.CharField(source="country.name_en")
    share = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)


class ProjectSectorSerializer(serializers.Serializer):
    sector = serializers.CharField(source="sector.code", help_text=_("Sector code."))
    parent = serializers.CharField(
        source="sector.parent.code",
        allow_null=True,
        default=None,
        help_text=_("Code of the top-level sector, for a sub-sector."),
    )
    name_zh = serializers.CharField(source="sector.name_zh")
    name_en = serializers.CharField(source="sector.name_en")
    share = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)


class ParticipationSerializer(serializers.Serializer):
    partner = PartnerBriefSerializer()
    role = serializers.ChoiceField(choices=Participation.Role.choices)


PROJECT_READ_FIELDS = [
    "url",
    "code",
    "version",
    "title_zh",
    "title_en",
    "summary_zh",
    "summary_en",
    "kind",
    "status",
    "status_label",
    "lead_unit",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
    "estimated_value",
    "currency",
    "support_requested",
    "risk_level",
    "risk_notes",
    "internal_notes",
    "next_review_due",
    "screening_round",
    "countries",
    "sectors",
    "participations",
    "tags",
    "created_at",
    "updated_at",
]
STAFF_ONLY_FIELDS = ("risk_notes", "internal_notes")


class ProjectSerializer(serializers.ModelSerializer):
    """A project as staff see it. Built from `Project.objects.with_relations()` rows:
    every nested list comes from prefetched data, so it costs a fixed number of queries.
    List pages render the same dicts from rows (`projects.selectors`) with an output
    serializer over dicts (`projects.api.listing`); a test keeps the two equal."""

    url = serializers.HyperlinkedIdentityField(view_name="api:project-detail", lookup_field="code")
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    lead_unit = PartnerBriefSerializer(read_only=True)
    countries = ProjectCountrySerializer(source="project_countries", many=True, read_only=True)
    sectors = ProjectSectorSerializer(source="project_sectors", many=True, read_only=True)
    participations = ParticipationSerializer(many=True, read_only=True)
    tags = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = PROJECT_READ_FIELDS
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_tags(self, project) -> list[str]:
        names = getattr(project, "tag_names", None)
        if names is not None:  # read with `with_relations(tag_names=True)`
            return split_tag_names(names)
        return sorted(tag.name for tag in project.tags.all())


class PartnerProjectSerializer(ProjectSerializer):
    """A project as a partner institution sees it: no internal fields."""

    class Meta(ProjectSerializer.Meta):
        fields = [name for name in PROJECT_READ_FIELDS if name not in STAFF_ONLY_FIELDS]
        read_only_fields = fields


class ProjectDetailSerializer(ProjectSerializer):
    """One project as staff read it: the list's shape and its sites."""

    sites = SiteSerializer(source="current_sites", many=True, read_only=True)

    class Meta(ProjectSerializer.Meta):
        fields = [*PROJECT_READ_FIELDS, "sites"]
        read_only_fields = fields


class PartnerProjectDetailSerializer(PartnerProjectSerializer):
    """One project as a partner reads it: no internal fields; its sites."""

    sites = SiteSerializer(source="current_sites", many=True, read_only=True)

    class Meta(PartnerProjectSerializer.Meta):
        fields = [*PartnerProjectSerializer.Meta.fields, "sites"]
        read_only_fields = fields


# --- Writing ---------------------------------------------------------------------------


class StrictSerializerMixin:
    """Refuses keys the serializer does not declare (e.g. `status`, `code`, `version`),
    rather than silently ignoring them."""

    read_only_hint = {
        "status": _("Status changes go through POST …/transitions/."),
    }

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - writable)
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: [self.read_only_hint.get(name, _("This field cannot be set."))]
                        for name in unknown
                    }
                )
        return super().to_internal_value(data)


def share_field() -> serializers.DecimalField:
    """A country's or sector's share of a project (the sum rule lives in the services)."""
    return serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        required=False,
        allow_null=True,
        help_text=_("Share in percent; give all shares or none."),
    )


class KeyField(serializers.CharField):
    """A related object named by a key (an id, an ISO code, a sector code). Validation
    keeps the key; `ResolvingListSerializer` turns the keys of every row into objects in
    one query (a related field would cost one query per row)."""

    def __init__(self, *, key: str, **kwargs):
        self.key = key
        super().__init__(**kwargs)

    def to_representation(self, value):
        return getattr(value, self.key, value)


class IdKeyField(serializers.IntegerField):
    """A row id, resolved with its list (`ResolvingListSerializer`); a positive 64-bit
    integer, so a huge number is a 400, not a database overflow."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=2**63 - 1, **kwargs)

    def to_representation(self, value):
        return getattr(value, "pk", value)


class ResolvingListSerializer(serializers.ListSerializer):
    """Rows that each name one related object (`child.resolve = (field, model, key)`):
    checked row by row without the database, then resolved all together in one query."""

    def to_internal_value(self, data):
        rows = super().to_internal_value(data)
        name, model, key = self.child.resolve
        found = model.objects.in_bulk({row[name] for row in rows}, field_name=key)
        errors = [
            {}
            if row[name] in found
            else {name: [_("“%(value)s” does not exist.") % {"value": row[name]}]}
            for row in rows
        ]
        if any(errors):
            raise serializers.ValidationError(errors)
        return [{**row, name: found[row[name]]} for row in rows]


class CountryShareInputSerializer(StrictSerializerMixin, serializers.Serializer):
    country = KeyField(key="pk", max_length=2, help_text=_("ISO alpha-2 code."))
    share = share_field()
    resolve = ("country", Country, "pk")

    class Meta:
        list_serializer_class = ResolvingListSerializer


class SectorShareInputSerializer(StrictSerializerMixin, serializers.Serializer):
    sector = KeyField(key="code", max_length=50, help_text=_("Sector code."))
    share = share_field()
    resolve = ("sector", Sector, "code")

    class Meta:
        list_serializer_class = ResolvingListSerializer


class ParticipationInputSerializer(StrictSerializerMixin, serializers.Serializer):
    partner = IdKeyField(help_text=_("Partner id."))
    role = serializers.ChoiceField(choices=Participation.Role.choices)
    resolve = ("partner", Partner, "pk")

    class Meta:
        list_serializer_class = ResolvingListSerializer


class TagListField(serializers.ListField):
    def to_representation(self, data):
        if hasattr(data, "all"):
            data = sorted(tag.name for tag in data.all())
        return super().to_representation(data)


class ProjectWriteSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    """Input of POST (create), PUT (replace) and PATCH (change). Lists given replace the
    project's lists; with PATCH, lists left out stay as they are."""

    lead_unit = serializers.PrimaryKeyRelatedField(
        queryset=Partner.objects.all(), help_text=_("Id of the domestic lead unit.")
    )
    # The sources name the project's relations, so the browsable API's forms can show
    # a project's current values in this input shape.
    countries = CountryShareInputSerializer(
        many=True,
        required=False,
        source="project_countries",
        max_length=LIST_LIMITS["countries"],
    )
    sectors = SectorShareInputSerializer(
        many=True, required=False, source="project_sectors", max_length=LIST_LIMITS["sectors"]
    )
    participations = ParticipationInputSerializer(
        many=True, required=False, max_length=LIST_LIMITS["participations"]
    )
    tags = TagListField(
        child=serializers.CharField(max_length=50),
        required=False,
        max_length=LIST_LIMITS["tags"],
    )

    class Meta:
        model = Project
        fields = [*services.EDITABLE_FIELDS, "countries", "sectors", "participations", "tags"]

    def service_arguments(self, *, replace: bool) -> dict:
        """The keyword arguments for `services.project_create` / `project_update`. With
        `replace` (PUT), fields left out take their defaults and lists become empty."""
        data = dict(self.validated_data)
        lists = {}
        for name, source in LIST_SOURCES.items():
            value = data.pop(source, None)
            lists[name] = [] if value is None and replace else value
        if replace:
            for name in services.EDITABLE_FIELDS:
                if name not in data:
                    data[name] = _default(Project._meta.get_field(name))

        def rows(name, make):
            return None if lists[name] is None else [make(row) for row in lists[name]]

        return {
            "data": data,
            "countries": rows(
                "countries", lambda row: services.CountryShare(row["country"].pk, row.get("share"))
            ),
            "sectors": rows(
                "sectors", lambda row: services.SectorShare(row["sector"].pk, row.get("share"))
            ),
            "participations": rows(
                "participations",
                lambda row: services.PartnerRole(row["partner"].pk, row["role"]),
            ),
            "tags": lists["tags"],
        }


LIST_SOURCES = {
    "countries": "project_countries",
    "sectors": "project_sectors",
    "participations": "participations",
    "tags": "tags",
}


def _default(field):
    if field.has_default():
        return field.get_default()
    return None if field.null else ""


# --- Sub-resources ---------------------------------------------------------------------


class ReviewSerializer(serializers.ModelSerializer):
    reviewer = serializers.CharField(source="reviewer.username", read_only=True)

    class Meta:
        model = Review
        fields = [
            "id",
            "reviewer",
            "round",
            *Review.CRITERIA,
            "weighted_score",
            "recommendation",
            "conflict_declaration",
            "conflict_note",
            "comment",
            "created_at",
        ]
        read_only_fields = fields


class ReviewCreateSerializer(StrictSerializerMixin, serializers.Serializer):
    strategic_fit = serializers.IntegerField(min_value=1, max_value=5)
    supply_chain_linkage = serializers.IntegerField(min_value=1, max_value=5)
    feasibility = serializers.IntegerField(min_value=1, max_value=5)
    partner_capacity = serializers.IntegerField(min_value=1, max_value=5)
    regional_balance = serializers.IntegerField(min_value=1, max_value=5)
    risk = serializers.IntegerField(
        min_value=1, max_value=5, help_text=_("5 = low risk, 1 = high risk.")
    )
    recommendation = serializers.ChoiceField(choices=Review.Recommendation.choices)
    conflict_declaration = serializers.ChoiceField(
        choices=[
            choice
            for choice in Review.ConflictDeclaration.choices
            if choice[0] != Review.ConflictDeclaration.NOT_ASKED
        ],
        help_text=_(
            "The reviewer's conflict-of-interest declaration: none, or declared (then "
            "conflict_note says what it is). A review with a declared conflict is kept but "
            "not counted in the round's average, spread or quorum."
        ),
    )
    conflict_note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=SHORT_TEXT_MAX_CHARS
    )
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=SHORT_TEXT_MAX_CHARS
    )


class SupportDecisionSerializer(serializers.ModelSerializer):
    decided_by = serializers.CharField(source="decided_by.username", read_only=True)

    class Meta:
        model = SupportDecision
        fields = [
            "id",
            "kind",
            "amount",
            "currency",
            "conditions",
            "decided_by",
            "decided_on",
            "valid_until",
            "created_at",
        ]
        read_only_fields = fields


class PartnerSupportDecisionSerializer(SupportDecisionSerializer):
    """A decision as partners read it: no conditions, and decided by the office, not by a
    staff member named."""

    decided_by = serializers.SerializerMethodField()

    class Meta(SupportDecisionSerializer.Meta):
        fields = [f for f in SupportDecisionSerializer.Meta.fields if f != "conditions"]
        read_only_fields = fields

    def get_decided_by(self, decision) -> str:
        return office_name()


class SupportDecisionCreateSerializer(StrictSerializerMixin, serializers.Serializer):
    kind = serializers.ChoiceField(choices=SupportDecision.Kind.choices)
    amount = serializers.DecimalField(
        max_digits=18, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True, default="")
    conditions = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=SHORT_TEXT_MAX_CHARS
    )
    decided_on = serializers.DateField(required=False, allow_null=True, default=None)
    valid_until = serializers.DateField(required=False, allow_null=True, default=None)


class ProgressUpdateSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", read_only=True)
    partner = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = ProgressUpdate
        fields = ["id", "author", "partner", "reported_on", "note", "created_at"]
        read_only_fields = fields


class PartnerProgressUpdateSerializer(ProgressUpdateSerializer):
    """An update as partners read it: posted by an institution (or the office), never by
    a username."""

    author = serializers.SerializerMethodField()

    def get_author(self, update) -> str:
        # The institution it was posted for (always one, for a partner user's update).
        return str(update.partner) if update.partner_id is not None else office_name()


class ProgressUpdateCreateSerializer(StrictSerializerMixin, serializers.Serializer):
    note = serializers.CharField(max_length=NOTE_MAX_CHARS)
    reported_on = serializers.DateField(required=False, allow_null=True, default=None)
    partner = serializers.PrimaryKeyRelatedField(
        queryset=Partner.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("The institution the update is posted for (optional)."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the user's own institutions can be named (administrators: any), so an id
        # of an institution the user cannot see answers exactly as a missing id does and
        # the browsable form lists no one else's name.
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if not access.is_superuser(user):
            self.fields["partner"].queryset = Partner.objects.filter(
                pk__in=access.member_partner_ids(user)
            )


class HistoryChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)


class HistoryEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    actor = serializers.SerializerMethodField()
    kind = serializers.CharField()
    model = serializers.CharField(allow_blank=True, required=False, default="")
    object = serializers.CharField(allow_blank=True, required=False, default="")
    action = serializers.CharField(allow_blank=True, required=False, default="")
    changes = HistoryChangeSerializer(many=True, required=False, default=list)
    from_status = serializers.CharField(allow_blank=True, allow_null=True, default=None)
    to_status = serializers.CharField(allow_blank=True, allow_null=True, default=None)
    reason = serializers.CharField(allow_blank=True, allow_null=True, default=None)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor(self, entry) -> str | None:
        actor = entry.get("actor")
        if actor is None:
            return None
        return getattr(actor, "username", None) or str(actor)

    def to_representation(self, entry):
        data = super().to_representation(entry)
        for key in ("model", "object", "action"):
            data[key] = "" if data.get(key) is None else str(data[key])
        return data


class AvailableTransitionSerializer(serializers.Serializer):
    action = serializers.CharField()
    label = serializers.CharField()
    to_status = serializers.CharField(allow_null=True)
    reason_required = serializers.BooleanField()


@extend_schema_field({"type": "string", "enum": list(workflow.ACTIONS)})
class ActionNameField(serializers.CharField):
    """A workflow action's name. Documented with the transition table's names and checked
    once, by the service that takes the action (`workflow.get_transition`)."""


class TransitionRequestSerializer(StrictSerializerMixin, serializers.Serializer):
    action = ActionNameField(max_length=40, help_text=_("e.g. submit, select, suspend."))
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=SHORT_TEXT_MAX_CHARS,
        help_text=_("Required by some actions (not_select, suspend, withdraw, …)."),
    )
    reason_visible_to_partners = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("Partners of the project read the reason in its history only if true."),
    )
