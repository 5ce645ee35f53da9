"""Shapes of sites in the API: a site as read (also inside the project detail) and the
GeoJSON feature collection. The write shape is in `projects.sites.api`."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from projects.sites.models import Exactness, FacilityType, Site


class SiteSerializer(serializers.ModelSerializer):
    country = serializers.CharField(source="country_id", help_text=_("ISO alpha-2 code."))
    facility_type_label = serializers.CharField(source="get_facility_type_display", read_only=True)

    class Meta:
        model = Site
        fields = [
            "id",
            "name_zh",
            "name_en",
            "latitude",
            "longitude",
            "country",
            "facility_type",
            "facility_type_label",
            "admin_area",
            "exactness",
        ]
        read_only_fields = fields


# --- GeoJSON (RFC 7946): documented shape for the schema ------------------------------


class _PointSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["Point"])
    coordinates = serializers.ListField(
        child=serializers.FloatField(),
        min_length=2,
        max_length=2,
        help_text=_("[longitude, latitude], WGS 84."),
    )


class _SitePropertiesSerializer(serializers.Serializer):
    name_zh = serializers.CharField()
    name_en = serializers.CharField()
    country = serializers.CharField()
    facility_type = serializers.ChoiceField(choices=FacilityType.choices)
    facility_type_label = serializers.CharField()
    admin_area = serializers.CharField()
    exactness = serializers.ChoiceField(choices=Exactness.choices)
    project = serializers.CharField(help_text=_("The project's code."))
    project_title_zh = serializers.CharField()
    project_title_en = serializers.CharField()


class _FeatureSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["Feature"])
    id = serializers.IntegerField()
    geometry = _PointSerializer()
    properties = _SitePropertiesSerializer()


class SiteFeatureCollectionSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["FeatureCollection"])
    features = _FeatureSerializer(many=True)
    limit = serializers.IntegerField(help_text=_("The most features one response holds."))
    truncated = serializers.BooleanField(
        help_text=_("True when more sites match than the limit: narrow the filters.")
    )
