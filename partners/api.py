"""`/api/v1/partners/` and `/api/v1/contacts/` (read-only; institutions are maintained
in the admin). Contacts are personal data: staff only. `/api/v1/me/`: the user, its roles
and the institutions it acts for."""

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from partners import access
from partners.models import Contact, Partner
from partners.search import search_partners
from registry.api.errors import error_responses
from registry.api.filters import FilterSet, IdFilter, StrictBooleanFilter, UtcDateTimeFilter
from registry.api.pagination import SyncCursorPagination, cursor_page_schema, sync_parameters
from registry.roles import user_roles


class PartnerSerializer(serializers.ModelSerializer):
    country = serializers.CharField(source="country_id", read_only=True)
    # May be empty, which the "uri" format of a URLField would not allow.
    website = serializers.CharField(read_only=True)

    class Meta:
        model = Partner
        fields = [
            "id",
            "name_zh",
            "name_en",
            "kind",
            "country",
            "website",
            "description",
            "org_id",
            "active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = [
            "id",
            "partner",
            "name",
            "position",
            "email",
            "phone",
            "notes",
            "active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PartnerFilter(FilterSet):
    kind = filters.ChoiceFilter(choices=Partner.Kind.choices, help_text=_("Kind of institution."))
    country = filters.CharFilter(
        field_name="country_id", help_text=_("ISO alpha-2 code of the institution's country.")
    )
    active = StrictBooleanFilter(help_text=_("Active (true) or inactive (false) only."))
    updated_since = UtcDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", help_text=_("Changed at or after this time.")
    )
    search = filters.CharFilter(
        method="filter_search",
        max_length=100,
        help_text=_("Words that must each occur in the Chinese or English name."),
    )
    ordering = filters.OrderingFilter(
        fields=(
            ("name_zh", "name_zh"),
            ("name_en", "name_en"),
            ("updated_at", "updated_at"),
            ("id", "id"),
        ),
        help_text=_("Sort by these fields; a leading '-' sorts descending."),
    )

    def filter_search(self, queryset, name, text):
        return search_partners(queryset, text) if text.strip() else queryset


class ContactFilter(FilterSet):
    partner = IdFilter(field_name="partner_id", help_text=_("Partner id."))
    active = StrictBooleanFilter(help_text=_("Active (true) or inactive (false) only."))


@extend_schema_view(
    list=extend_schema(
        summary=_("List partner institutions"),
        description=_(
            "Staff see all; partner users see their own institutions and those in their projects."
        ),
        responses={200: PartnerSerializer(many=True), **error_responses(400)},
    ),
    retrieve=extend_schema(
        summary=_("Read a partner institution"),
        responses={200: PartnerSerializer, **error_responses(404)},
    ),
    sync=extend_schema(
        summary=_("Partners changed since a time, for synchronisation"),
        description=_("Cursor-paginated, ordered by (updated_at, id); same filters as the list."),
        filters=True,
        parameters=sync_parameters(),
        responses={
            200: cursor_page_schema("PartnerSyncPage", PartnerSerializer),
            **error_responses(400),
        },
    ),
)
class PartnerViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = PartnerSerializer
    filterset_class = PartnerFilter

    def get_queryset(self):
        return access.visible_partners(self.request.user, Partner.objects.order_by("name_zh", "id"))

    @action(detail=False, methods=["get"], pagination_class=SyncCursorPagination)
    def sync(self, request):
        return self.list(request)


@extend_schema_view(
    list=extend_schema(
        summary=_("List contacts (staff only)"),
        responses={200: ContactSerializer(many=True), **error_responses(400, 403)},
    ),
    retrieve=extend_schema(
        summary=_("Read a contact (staff only)"),
        responses={200: ContactSerializer, **error_responses(403, 404)},
    ),
)
class ContactViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    queryset = Contact.objects.order_by("partner_id", "name", "id")

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not access.sees_contacts(request.user):
            raise exceptions.PermissionDenied(_("Contacts are seen by office staff only."))


class PartnerBriefSerializer(serializers.ModelSerializer):
    """An institution in brief: a project's lead unit or participant, a user's
    institutions."""

    country = serializers.CharField(source="country_id", read_only=True)

    class Meta:
        model = Partner
        fields = ["id", "name_zh", "name_en", "kind", "country"]
        read_only_fields = fields


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.EmailField(allow_blank=True)
    is_superuser = serializers.BooleanField()
    roles = serializers.ListField(child=serializers.CharField())
    institutions = PartnerBriefSerializer(many=True)
    language = serializers.CharField(help_text=_("The language of this response's messages."))
    auth = serializers.ChoiceField(choices=["token", "session"])


class MeView(APIView):
    @extend_schema(
        summary=_("Who am I: user, roles and institutions"),
        responses={200: MeSerializer, **error_responses()},
    )
    def get(self, request):
        user = request.user
        data = {
            "username": user.username,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "is_superuser": user.is_superuser,
            "roles": sorted(user_roles(user)),
            "institutions": Partner.objects.filter(pk__in=access.member_partner_ids(user)).order_by(
                "name_zh"
            ),
            "language": get_language(),
            "auth": "session" if request.auth is None else "token",
        }
        return Response(MeSerializer(data).data)
