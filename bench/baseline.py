"""The list a team writes first: a ModelViewSet with nested ModelSerializers and no
select_related/prefetch_related. Served only by the bench (`bench.settings`) as the
yardstick the real API's list is compared against; never part of the app."""

from rest_framework import serializers, viewsets
from rest_framework.pagination import PageNumberPagination

from partners.models import Partner
from projects.models import Participation, Project, ProjectCountry, ProjectSector
from registry.models import Country, Sector


class CountrySerializer(serializers.ModelSerializer):
    class Meta:
        model = Country
        fields = ["iso2", "name_zh", "name_en"]


class SectorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Sector
        fields = ["code", "name_zh", "name_en"]


class PartnerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Partner
        fields = ["id", "name_zh", "name_en", "kind", "country"]


class ProjectCountrySerializer(serializers.ModelSerializer):
    country = CountrySerializer()

    class Meta:
        model = ProjectCountry
        fields = ["country", "share"]


class ProjectSectorSerializer(serializers.ModelSerializer):
    sector = SectorSerializer()

    class Meta:
        model = ProjectSector
        fields = ["sector", "share"]


class ParticipationSerializer(serializers.ModelSerializer):
    partner = PartnerSerializer()

    class Meta:
        model = Participation
        fields = ["partner", "role"]


class ProjectSerializer(serializers.ModelSerializer):
    lead_unit = PartnerSerializer()
    countries = ProjectCountrySerializer(source="project_countries", many=True)
    sectors = ProjectSectorSerializer(source="project_sectors", many=True)
    participations = ParticipationSerializer(many=True)

    class Meta:
        model = Project
        fields = [
            "code",
            "title_zh",
            "title_en",
            "kind",
            "status",
            "lead_unit",
            "planned_start",
            "planned_end",
            "estimated_value",
            "currency",
            "risk_level",
            "countries",
            "sectors",
            "participations",
            "created_at",
            "updated_at",
        ]


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100


class ProjectViewSet(viewsets.ReadOnlyModelViewSet):
    # Authentication, permissions and throttles are the project's defaults, as a first
    # version would inherit them; filters are left out (the baseline is the plain list).
    queryset = Project.objects.all()
    serializer_class = ProjectSerializer
    pagination_class = Pagination
    filter_backends = []
    lookup_field = "code"
