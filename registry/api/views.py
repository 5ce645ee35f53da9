"""The API root and the reference data (countries, country groups, sectors)."""

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from registry.api.errors import error_responses
from registry.api.filters import FilterSet, StrictBooleanFilter
from registry.models import Country, CountryGroup, Sector

# --- Serializers -------------------------------------------------------------------------


class CountrySerializer(serializers.ModelSerializer):
    class Meta:
        model = Country
        fields = [
            "iso2",
            "iso3",
            "numeric",
            "name_zh",
            "name_en",
            "region",
            "region_code",
            "subregion",
            "subregion_code",
        ]
        read_only_fields = fields


class CountryGroupSerializer(serializers.ModelSerializer):
    members = serializers.SlugRelatedField(
        slug_field="iso2", many=True, read_only=True, help_text=_("ISO alpha-2 codes.")
    )

    class Meta:
        model = CountryGroup
        fields = ["code", "name_zh", "name_en", "kind", "description", "members"]
        read_only_fields = fields


class SectorSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Sector
        fields = [
            "code",
            "parent",
            "name_zh",
            "name_en",
            "people_to_people",
            "dac_code",
            "sort_order",
        ]
        read_only_fields = fields


# --- Filters -------------------------------------------------------------------------------


class CountryFilter(FilterSet):
    region_code = filters.CharFilter(help_text=_("UN M49 region code, e.g. 142 (Asia)."))
    subregion_code = filters.CharFilter(help_text=_("UN M49 sub-region code."))
    group = filters.CharFilter(field_name="groups__code", help_text=_("Country group code."))


class CountryGroupFilter(FilterSet):
    kind = filters.ChoiceFilter(choices=CountryGroup.Kind.choices, help_text=_("Kind of group."))


class SectorFilter(FilterSet):
    parent = filters.CharFilter(
        field_name="parent__code", help_text=_("Sub-sectors of this top-level sector.")
    )
    top_level = StrictBooleanFilter(
        field_name="parent", lookup_expr="isnull", help_text=_("Top-level sectors only.")
    )
    people_to_people = StrictBooleanFilter(help_text=_("People-to-people sectors only."))


# --- Views ---------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=_("List countries"),
        responses={200: CountrySerializer(many=True), **error_responses(400)},
    ),
    retrieve=extend_schema(
        summary=_("Read a country"), responses={200: CountrySerializer, **error_responses(404)}
    ),
)
class CountryViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Country.objects.all()
    serializer_class = CountrySerializer
    filterset_class = CountryFilter
    lookup_field = "iso2"


@extend_schema_view(
    list=extend_schema(
        summary=_("List country groups"),
        responses={200: CountryGroupSerializer(many=True), **error_responses(400)},
    ),
    retrieve=extend_schema(
        summary=_("Read a country group"),
        responses={200: CountryGroupSerializer, **error_responses(404)},
    ),
)
class CountryGroupViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = CountryGroup.objects.prefetch_related(
        Prefetch("members", queryset=Country.objects.only("iso2"))
    )
    serializer_class = CountryGroupSerializer
    filterset_class = CountryGroupFilter
    lookup_field = "code"


@extend_schema_view(
    list=extend_schema(
        summary=_("List sectors"),
        responses={200: SectorSerializer(many=True), **error_responses(400)},
    ),
    retrieve=extend_schema(
        summary=_("Read a sector"), responses={200: SectorSerializer, **error_responses(404)}
    ),
)
class SectorViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Sector.objects.select_related("parent")
    serializer_class = SectorSerializer
    filterset_class = SectorFilter
    lookup_field = "code"


def api_root_view(resources: dict[str, str]):
    """The view listing the resources of API v1: {name: URL name}, in that order. The
    API's URLconf, which composes the apps' routes, names them; the base knows none."""

    class ApiRootView(APIView):
        """The resources of API v1."""

        @extend_schema(
            summary=_("The resources of API v1"),
            responses={
                200: inline_serializer(
                    "ApiRoot", {name: serializers.URLField() for name in resources}
                ),
                **error_responses(),
            },
        )
        def get(self, request):
            return Response(
                {key: reverse(name, request=request) for key, name in resources.items()}
            )

    return ApiRootView.as_view()
