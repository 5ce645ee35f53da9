"""Sites through HTTP.

- `/api/v1/projects/{code}/sites/` and `…/sites/{id}/`: a project's sites, read by
  whoever may see the project (partners included), written by whoever may edit it, with
  If-Match like every other child of a project.
- `/api/v1/sites.geojson`: the sites of the projects the project list would show for the
  same query (the same FilterSet, the same visibility in `projects.access`), as an RFC 7946
  FeatureCollection, capped at `geojson_limit()` features (2,000 by default).
"""

import json
from json.encoder import encode_basestring as json_string

from django.conf import settings
from django.db import connections
from django.db.models import FloatField
from django.db.models.functions import Cast
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from projects import access
from projects.api.etag import ETAG, IF_MATCH, expected_version
from projects.api.filters import ProjectFilter
from projects.api.search import SearchPlan
from projects.api.serializers import StrictSerializerMixin
from projects.sites import services
from projects.sites.map import MAX_MAP_SITES
from projects.sites.models import Exactness, FacilityType, Site
from projects.sites.serializers import SiteFeatureCollectionSerializer, SiteSerializer
from registry.api.errors import error_responses
from registry.api.filters import check_query_parameters, filter_parameters

# Newest projects first (as the list), then each project's sites in the order entered.
GEOJSON_ORDER = ("-pk", "sites__id")
EMPTY_STRING = json_string("")


def _coordinate(help_text) -> serializers.DecimalField:
    # Typed here, ranged in the service (one home for the rule; same message everywhere).
    return serializers.DecimalField(
        max_digits=None, decimal_places=None, coerce_to_string=True, help_text=help_text
    )


class SiteWriteSerializer(StrictSerializerMixin, serializers.Serializer):
    name_zh = serializers.CharField(max_length=200, required=False, allow_blank=True)
    name_en = serializers.CharField(max_length=200, required=False, allow_blank=True)
    latitude = _coordinate(gettext_lazy("Decimal degrees, WGS 84, from -90 to 90."))
    longitude = _coordinate(gettext_lazy("Decimal degrees, WGS 84, from -180 to 180."))
    country = serializers.CharField(
        max_length=2, help_text=gettext_lazy("ISO alpha-2 code of one of the project's countries.")
    )
    facility_type = serializers.ChoiceField(choices=FacilityType.choices, required=False)
    admin_area = serializers.CharField(max_length=200, required=False, allow_blank=True)
    exactness = serializers.ChoiceField(choices=Exactness.choices, required=False)

    def service_data(self) -> dict:
        data = dict(self.validated_data)
        if "country" in data:
            data["country"] = data["country"].upper()
        return data


class _ProjectSitesMixin:
    def visible_project(self):
        return get_object_or_404(
            access.visible_projects(self.request.user), code=self.kwargs["code"]
        )

    def check_can_edit(self, project):
        if not access.can_edit_project(self.request.user, project):
            raise exceptions.PermissionDenied(
                _("You may only change the sites of projects of your own unit.")
            )

    def etag_headers(self, project) -> dict:
        project.refresh_from_db(fields=["version"])
        return {"ETag": f'"{project.code}-v{project.version}"'}


class ProjectSitesView(_ProjectSitesMixin, generics.GenericAPIView):
    serializer_class = SiteSerializer
    filter_backends = []

    def get_queryset(self):
        return Site.objects.none()  # the schema's model; the handlers read the project's

    @extend_schema(
        summary=gettext_lazy("The project's sites"),
        responses={200: SiteSerializer(many=True), **error_responses(404)},
    )
    def get(self, request, code):
        check_query_parameters(request, ())
        project = self.visible_project()
        rows = project.sites.current().order_by("id")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(SiteSerializer(page, many=True).data)

    @extend_schema(
        summary=gettext_lazy("Add a site to the project"),
        parameters=[IF_MATCH, ETAG],
        request=SiteWriteSerializer,
        responses={201: SiteSerializer, **error_responses(400, 403, 404, 412, 413, 428)},
    )
    def post(self, request, code):
        project = self.visible_project()
        self.check_can_edit(project)
        version = expected_version(request, project)
        serializer = SiteWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        site = services.site_add(
            actor=request.user,
            project=project,
            data=serializer.service_data(),
            expected_version=version,
        )
        return Response(
            SiteSerializer(site).data,
            status=status.HTTP_201_CREATED,
            headers=self.etag_headers(project),
        )


class ProjectSiteView(_ProjectSitesMixin, generics.GenericAPIView):
    serializer_class = SiteSerializer
    filter_backends = []
    pagination_class = None

    def get_queryset(self):
        return Site.objects.none()

    def site(self, project) -> Site:
        return get_object_or_404(project.sites.current(), pk=self.kwargs["site_id"])

    @extend_schema(
        summary=gettext_lazy("Read one site of the project"),
        responses={200: SiteSerializer, **error_responses(404)},
    )
    def get(self, request, code, site_id):
        check_query_parameters(request, ())
        return Response(SiteSerializer(self.site(self.visible_project())).data)

    @extend_schema(
        summary=gettext_lazy("Change a site of the project"),
        parameters=[IF_MATCH, ETAG],
        request=SiteWriteSerializer(partial=True),
        responses={200: SiteSerializer, **error_responses(400, 403, 404, 412, 413, 428)},
    )
    def patch(self, request, code, site_id):
        project = self.visible_project()
        site = self.site(project)
        self.check_can_edit(project)
        version = expected_version(request, project)
        serializer = SiteWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        site, _changed = services.site_change(
            actor=request.user, site=site, data=serializer.service_data(), expected_version=version
        )
        return Response(SiteSerializer(site).data, headers=self.etag_headers(project))

    @extend_schema(
        summary=gettext_lazy("Remove a site from the project (kept in history)"),
        parameters=[IF_MATCH, ETAG],
        request=None,
        responses={204: None, **error_responses(403, 404, 412, 428)},
    )
    def delete(self, request, code, site_id):
        project = self.visible_project()
        site = self.site(project)
        self.check_can_edit(project)
        version = expected_version(request, project)
        services.site_remove(actor=request.user, site=site, expected_version=version)
        return Response(status=status.HTTP_204_NO_CONTENT, headers=self.etag_headers(project))


def geojson_limit() -> int:
    """The most features one sites.geojson response holds: `SITES_GEOJSON_LIMIT`, by
    default the dashboard map's `MAX_MAP_SITES` (2,000). One map draws no more points
    than that, and the answer stays under 1 MiB (the time follows the cap, not the pool:
    bench/README.md); past it the response says `truncated: true` and the caller narrows
    the filters. Read per request, so a changed setting takes effect."""
    return int(getattr(settings, "SITES_GEOJSON_LIMIT", MAX_MAP_SITES))


class EncodedJSON(bytes):
    """A response body already encoded as JSON (UTF-8): the renderers below send it as it
    is instead of encoding it again."""


class _SendsEncodedJSON:
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, EncodedJSON):
            if self.get_indent(accepted_media_type, renderer_context or {}) is None:
                return bytes(data)
            data = json.loads(data)  # `; indent=N` asked for: re-encoded, indented
        return super().render(data, accepted_media_type, renderer_context)


class GeoJSONRenderer(_SendsEncodedJSON, JSONRenderer):
    media_type = "application/geo+json"
    format = "geojson"


class SitesJSONRenderer(_SendsEncodedJSON, JSONRenderer):
    """`?format=json`: the same body as `application/json`."""


def site_features(projects, *, limit: int | None = None) -> EncodedJSON:
    """The current sites of `projects` (a queryset of projects) as an RFC 7946
    FeatureCollection of at most `limit` points, encoded.

    One query, whatever the number of sites: the filtered projects joined to their
    current sites, the columns the features carry (`values_list()`, no model instances),
    newest projects first, cut at `limit + 1` rows by the database (the extra row only
    tells `truncated`). The filters stay conditions on the projects themselves (not a
    `project_id IN (…)` subquery under the sites), so the planner estimates them on the
    projects and picks its plan by them: walk the newest projects and their sites (index
    `site_current_newest_first`) until the limit when many match, or gather the few that
    match through the filters' indexes and sort them. On the bench's 100 varied filters
    the statement's p50 went from 16 to 11 ms, p99 from 380 to 177 ms.

    Each feature is written straight from its row into one template, each string escaped
    by the standard library's JSON string encoder (`json.encoder.encode_basestring`, the
    one `json.dumps` uses, in C): the same text `json.dumps` gives for the nested dicts
    (compact, non-ASCII kept), without building three dicts per feature for the encoder to
    walk. At 2,000 features that took building and encoding from 54-67 ms to 33-46 ms
    on the loaded bench machine (bench/README.md, "sites.geojson"). The strings are
    the only values that need escaping: ids are integers, coordinates floats (range-
    checked by the database, never NaN), written by `repr` as `json.dumps` writes them."""
    limit = geojson_limit() if limit is None else limit
    rows = (
        # One filter(): the condition and the columns below are of one join, each row a
        # current site of a filtered project.
        projects.filter(sites__isnull=False, sites__removed_at__isnull=True)
        .order_by(*GEOJSON_ORDER)
        .values_list(
            "sites__id",
            "sites__name_zh",
            "sites__name_en",
            # Cast by the database: no Decimal per coordinate (a tenth of the row cost).
            Cast("sites__latitude", FloatField()),
            Cast("sites__longitude", FloatField()),
            "sites__country_id",
            "sites__facility_type",
            "sites__admin_area",
            "sites__exactness",
            "code",
            "title_zh",
            "title_en",
        )[: limit + 1]
    )
    rows = list(rows)
    truncated = len(rows) > limit
    string = json_string
    # Translated and encoded once per response, not once per feature.
    labels = {value: string(str(label)) for value, label in FacilityType.choices}
    features = ",".join(
        [
            # RFC 7946 §3.1.1: longitude first.
            f'{{"type":"Feature","id":{pk:d},'
            # The column keeps 6 decimals (~0.1 m); rounded, no binary noise past them
            # (SQLite's reading of a decimal is not always the nearest float).
            f'"geometry":{{"type":"Point","coordinates":[{round(longitude, 6)!r},'
            f"{round(latitude, 6)!r}]}},"
            f'"properties":{{"name_zh":{string(name_zh)},"name_en":{string(name_en)},'
            f'"country":{string(country)},"facility_type":{string(facility_type)},'
            f'"facility_type_label":{labels.get(facility_type, EMPTY_STRING)},'
            f'"admin_area":{string(admin_area)},"exactness":{string(exactness)},'
            f'"project":{string(code)},"project_title_zh":{string(title_zh)},'
            f'"project_title_en":{string(title_en)}}}}}'
            for (
                pk,
                name_zh,
                name_en,
                latitude,
                longitude,
                country,
                facility_type,
                admin_area,
                exactness,
                code,
                title_zh,
                title_en,
            ) in rows[:limit]
        ]
    )
    body = (
        f'{{"type":"FeatureCollection","features":[{features}],'
        f'"limit":{limit:d},"truncated":{"true" if truncated else "false"}}}'
    )
    # As DRF's JSONRenderer: U+2028 and U+2029 escaped, so the body is valid JavaScript.
    return EncodedJSON(body.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode())


def _list_filter_parameters() -> list[OpenApiParameter]:
    # drf-spectacular documents a FilterSet on list routes only; this route returns one
    # collection, so the list's filters are listed here from the same FilterSet.
    return [
        OpenApiParameter(
            parameter,
            OpenApiTypes.STR,
            OpenApiParameter.QUERY,
            description=str(declared.extra.get("help_text", "")),
        )
        for name, declared in ProjectFilter.base_filters.items()
        for parameter in filter_parameters(name, declared)
    ]


class SitesGeoJSONView(generics.GenericAPIView):
    """`/api/v1/sites.geojson`."""

    filterset_class = ProjectFilter
    pagination_class = None
    renderer_classes = [GeoJSONRenderer, SitesJSONRenderer]

    def get_queryset(self):
        return access.visible_projects(self.request.user)

    @extend_schema(
        summary=gettext_lazy("Sites of the listed projects, as GeoJSON"),
        description=gettext_lazy(
            "An RFC 7946 FeatureCollection of the sites of the projects that "
            "/api/v1/projects/ lists for the same filters and user (partners: only the "
            "projects their institution takes part in). Each feature is a Point "
            "[longitude, latitude] with the site's and its project's names. At most "
            "`limit` features (2,000 by default, the setting SITES_GEOJSON_LIMIT; newest "
            "projects first); `truncated` is true when more matched: narrow the filters."
        ),
        parameters=_list_filter_parameters(),
        responses={
            (200, "application/geo+json"): SiteFeatureCollectionSerializer,
            **error_responses(400),
        },
    )
    def get(self, request):
        projects = self.filter_queryset(self.get_queryset())
        return Response(site_features(searched(projects, getattr(self, "filterset", None))))


def searched(projects, filterset):
    """`projects` with a search among the filters, put so that PostgreSQL reads it in
    bounds. The list's search plan (`projects.api.search.SearchPlan`) probes the newest
    filtered projects first. When it has every match (all the filtered projects probed,
    or a rare search), the projects are those ids. A common search (many matches) is
    checked row by row on the newest projects (`SearchPlan.walked_condition`), where the
    walk stops at the limit. The planner's estimate of a search is blind (230 rows where
    11,572 projects held the words): given the plain condition, it read a partner's search
    through the trigram index over the whole pool (564 ms for its 201 projects), walked
    every project for a rare one (1.1 s), and read a common one's 10,000 matches through
    the index and every site (0.7-1.2 s; walked: 157 ms)."""
    before_search = getattr(filterset, "before_search", None)
    if before_search is None or connections[before_search.db].vendor != "postgresql":
        return projects
    plan = SearchPlan(before_search, filterset.search_text)
    ids = plan.all_ids()
    if ids is None:
        return before_search.filter(plan.walked_condition())
    return before_search.filter(pk__in=ids)
