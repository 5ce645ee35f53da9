"""`/api/v1/projects/{code}/results/` and `/api/v1/indicators/`.

As on the other project sub-resources: the project is found among those the user may see
(404 otherwise), a write needs the project's ETag in If-Match (428/412), the body is
validated (400 in the one error shape) and one service function does the write.
"""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from projects import access
from projects.api.etag import ETAG, IF_MATCH, expected_version, project_etag
from projects.api.serializers import StrictSerializerMixin
from projects.models import Project
from projects.results import services
from projects.results.models import Indicator, Period, Result, StandardIndicator
from registry.api.errors import error_responses
from registry.api.filters import check_query_parameters
from registry.api.pagination import PagePagination

# --- Output -------------------------------------------------------------------------------


class StandardIndicatorSerializer(serializers.ModelSerializer):
    class Meta:
        model = StandardIndicator
        fields = ("code", "name_zh", "name_en", "unit", "ascending", "active")


class PeriodSerializer(serializers.ModelSerializer):
    reported_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    approved_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Period
        fields = (
            "id",
            "period_start",
            "period_end",
            "target_value",
            "target_comment",
            "actual_value",
            "actual_comment",
            "status",
            "reported_by",
            "reporting_partner",
            "reported_at",
            "approved_by",
            "approved_at",
            "review_comment",
        )


class IndicatorSerializer(serializers.ModelSerializer):
    standard = serializers.SlugRelatedField(slug_field="code", read_only=True)
    periods = PeriodSerializer(many=True, read_only=True)

    class Meta:
        model = Indicator
        fields = (
            "id",
            "title_zh",
            "title_en",
            "standard",
            "measure",
            "unit",
            "ascending",
            "baseline_year",
            "baseline_value",
            "baseline_comment",
            "periods",
        )


class ResultSerializer(serializers.ModelSerializer):
    indicators = IndicatorSerializer(many=True, read_only=True)

    class Meta:
        model = Result
        fields = ("id", "type", "title_zh", "title_en", "indicators")


# --- Input --------------------------------------------------------------------------------

MAX_ITEMS = 50
DECIMAL = {"max_digits": 20, "decimal_places": 4, "required": False, "allow_null": True}


class PeriodWriteSerializer(StrictSerializerMixin, serializers.Serializer):
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    target_value = serializers.DecimalField(**DECIMAL, default=None)
    target_comment = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )


class IndicatorWriteSerializer(StrictSerializerMixin, serializers.Serializer):
    title_zh = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    title_en = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    standard = serializers.SlugRelatedField(
        slug_field="code",
        queryset=StandardIndicator.objects.all(),
        required=False,
        allow_null=True,
        default=None,
    )
    measure = serializers.ChoiceField(
        choices=Indicator.Measure.choices, default=Indicator.Measure.QUANTITATIVE
    )
    unit = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    ascending = serializers.BooleanField(required=False, allow_null=True, default=None)
    baseline_year = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1900, max_value=2100
    )
    baseline_value = serializers.DecimalField(**DECIMAL, default=None)
    baseline_comment = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )
    periods = PeriodWriteSerializer(many=True, required=False, default=list, max_length=MAX_ITEMS)


class ResultWriteSerializer(StrictSerializerMixin, serializers.Serializer):
    type = serializers.ChoiceField(choices=Result.Type.choices)
    title_zh = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    title_en = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    indicators = IndicatorWriteSerializer(
        many=True, required=False, default=list, max_length=MAX_ITEMS
    )

    def service_arguments(self) -> dict:
        data = dict(self.validated_data)
        data["indicators"] = [
            services.IndicatorData(
                **{key: value for key, value in indicator.items() if key != "periods"},
                periods=[services.PeriodData(**period) for period in indicator["periods"]],
            )
            for indicator in data["indicators"]
        ]
        return data


class PeriodActionSerializer(StrictSerializerMixin, serializers.Serializer):
    action = serializers.ChoiceField(choices=sorted(services.PERIOD_TRANSITIONS))
    actual_value = serializers.DecimalField(**DECIMAL, default=None)
    actual_comment = serializers.CharField(
        max_length=5000, required=False, allow_blank=True, default=""
    )
    comment = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    partner = serializers.IntegerField(required=False, allow_null=True, default=None)


# --- Views --------------------------------------------------------------------------------


def project_results(project: Project):
    """A project's results with indicators and periods, in four queries."""
    return (
        Result.objects.filter(project=project)
        .order_by("id")
        .prefetch_related(
            Prefetch("indicators", queryset=Indicator.objects.select_related("standard")),
            Prefetch(
                "indicators__periods",
                queryset=Period.objects.select_related("reported_by", "approved_by"),
            ),
        )
    )


class ProjectMixin:
    def visible_project(self) -> Project:
        return get_object_or_404(
            access.visible_projects(self.request.user), code=self.kwargs["code"]
        )

    def etag_headers(self, project_pk: int) -> dict:
        return {"ETag": project_etag(Project.objects.only("code", "version").get(pk=project_pk))}


class ProjectResultsView(ProjectMixin, GenericAPIView):
    # For the schema only: the rows are the visible project's (`project_results`).
    queryset = Result.objects.none()
    pagination_class = PagePagination
    serializer_class = ResultSerializer

    def get_serializer_class(self):
        return ResultWriteSerializer if self.request.method == "POST" else ResultSerializer

    @extend_schema(
        summary=gettext_lazy("The project's results, indicators and periods"),
        parameters=[ETAG],
        responses={200: ResultSerializer(many=True), **error_responses(400, 404)},
    )
    def get(self, request, code):
        check_query_parameters(request, ())
        project = self.visible_project()
        page = self.paginate_queryset(project_results(project))
        response = self.get_paginated_response(ResultSerializer(page, many=True).data)
        response["ETag"] = project_etag(project)
        return response

    @extend_schema(
        summary=gettext_lazy("Add a result with its indicators, baselines and targets"),
        parameters=[IF_MATCH, ETAG],
        request=ResultWriteSerializer,
        responses={201: ResultSerializer, **error_responses(400, 403, 404, 412, 413, 428)},
    )
    def post(self, request, code):
        check_query_parameters(request, ())
        project = self.visible_project()
        version = expected_version(request, project)
        serializer = ResultWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = services.result_create(
            project=project,
            actor=request.user,
            expected_version=version,
            **serializer.service_arguments(),
        )
        data = ResultSerializer(project_results(project).get(pk=result.pk)).data
        return Response(data, status=status.HTTP_201_CREATED, headers=self.etag_headers(project.pk))


class PeriodActionView(ProjectMixin, GenericAPIView):
    queryset = Period.objects.none()
    serializer_class = PeriodActionSerializer

    @extend_schema(
        summary=gettext_lazy("Report, approve or return a period's actual"),
        description=gettext_lazy(
            "report: the lead unit's officers or a partner taking part (actual_value, or "
            "actual_comment for a qualitative indicator); approve and return (with a "
            "comment): the lead unit's officers."
        ),
        parameters=[IF_MATCH, ETAG],
        request=PeriodActionSerializer,
        responses={
            200: PeriodSerializer,
            **error_responses(400, 403, 404, 409, 412, 413, 428),
        },
    )
    def post(self, request, code, pk):
        check_query_parameters(request, ())
        project = self.visible_project()
        period = get_object_or_404(
            Period.objects.select_related("indicator__result"),
            pk=pk,
            indicator__result__project=project,
        )
        version = expected_version(request, project)
        serializer = PeriodActionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        common = {"period": period, "actor": request.user, "expected_version": version}
        if data["action"] == "report":
            period = services.period_report(
                **common,
                actual_value=data["actual_value"],
                actual_comment=data["actual_comment"],
                partner=data["partner"],
            )
        elif data["action"] == "approve":
            period = services.period_approve(**common)
        else:
            period = services.period_return(**common, comment=data["comment"])
        return Response(PeriodSerializer(period).data, headers=self.etag_headers(project.pk))


@extend_schema(summary=gettext_lazy("The corridor's standard indicators"))
class StandardIndicatorViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = StandardIndicator.objects.order_by("sort_order", "code")
    serializer_class = StandardIndicatorSerializer
    pagination_class = PagePagination
    lookup_field = "code"
    filter_backends = []

    def list(self, request, *args, **kwargs):
        check_query_parameters(request, ())
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        check_query_parameters(request, ())
        return super().retrieve(request, *args, **kwargs)
