"""Read-only API for pipeline figures and IATI publication.

Figures are computed by `projects.reporting.stats` over the projects the user may see
(`access.visible_projects`); who may call what is decided in `projects.access`.
"""

import io
import tempfile

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from projects import access
from projects.reporting import iati, stats
from registry.jobs.running import start_job
from registry.jobs.views import job_status

FILTER_PARAMETERS = [
    OpenApiParameter("period_start", OpenApiTypes.DATE, description="From this date (inclusive)."),
    OpenApiParameter("period_end", OpenApiTypes.DATE, description="Up to this date (inclusive)."),
    OpenApiParameter("country_group", OpenApiTypes.STR, description="Country group code."),
    OpenApiParameter(
        "sector",
        OpenApiTypes.STR,
        description="Sector code; a top-level sector includes its sub-sectors.",
    ),
    OpenApiParameter(
        "lead_unit", {"type": "integer", "minimum": 1}, description="Lead unit (partner id)."
    ),
]


class CanViewStats(BasePermission):
    def has_permission(self, request, view):
        return access.can_view_stats(request.user)


class CanPublishIati(BasePermission):
    def has_permission(self, request, view):
        return access.can_publish_iati(request.user)


class _FiguresView(APIView):
    permission_classes = [IsAuthenticated, CanViewStats]
    figures = None

    def get(self, request):
        try:
            # `format` is DRF's renderer switch, not a filter.
            filters = stats.parse_filters(request.query_params, allowed_extra=("format",))
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict) from error
        projects = access.visible_projects(request.user)
        return Response(type(self).figures(projects, filters))


@extend_schema(
    tags=["stats"],
    parameters=FILTER_PARAMETERS,
    responses=OpenApiTypes.OBJECT,
    summary=gettext_lazy(
        "Counts and estimated value by status, kind, sector, country, group and lead unit"
    ),
)
class SummaryView(_FiguresView):
    figures = staticmethod(stats.summary)


@extend_schema(
    tags=["stats"],
    parameters=FILTER_PARAMETERS,
    responses=OpenApiTypes.OBJECT,
    summary=gettext_lazy(
        "Balance indicators: people-to-people share, kinds, concentration, coverage"
    ),
)
class BalanceView(_FiguresView):
    figures = staticmethod(stats.balance)


@extend_schema(
    tags=["stats"],
    parameters=FILTER_PARAMETERS,
    responses=OpenApiTypes.OBJECT,
    summary=gettext_lazy(
        "Flow: entries per stage and month, selection rate, median days, overdue reviews"
    ),
)
class FlowView(_FiguresView):
    figures = staticmethod(stats.flow)


class NothingToPublish(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "nothing_to_publish"


class IatiActivitiesView(APIView):
    permission_classes = [IsAuthenticated, CanPublishIati]

    @extend_schema(
        tags=["iati"],
        responses={(200, "application/xml"): OpenApiTypes.STR, 409: OpenApiTypes.OBJECT},
        operation_id="iati_activities_xml",
        summary=gettext_lazy("IATI 2.03 activity file of the published projects"),
        description=gettext_lazy(
            "Selected, in-progress and completed projects. Projects breaking an IATI rule are "
            "left out; their number is in the X-IATI-Left-Out header and the reasons at "
            "/api/v1/iati/report/."
        ),
    )
    def get(self, request):
        if iati.publishable_projects().count() > settings.REGISTRY_BACKGROUND_ROWS:
            # A large pool's file is built by a worker: follow the job, then download.
            from projects.tasks import iati_file

            job = start_job(
                kind="iati", task=iati_file, owner=request.user, label=_("IATI activity file")
            )
            return Response(
                job_status(job),
                status=202,
                headers={"Location": reverse("job-status", args=[job.pk])},
            )
        # Not a `with` block: FileResponse closes the file once it is sent.
        output = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115
        try:
            result = iati.write_activities(output)
        except BaseException:
            output.close()
            raise
        if not result.published:
            output.close()
            raise NothingToPublish(
                _("No project can be published (%(count)s left out).")
                % {"count": len(result.problems)}
            )
        output.seek(0)
        response = FileResponse(output, content_type="application/xml; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="activities.xml"'
        response["X-IATI-Left-Out"] = str(len(result.problems))
        return response


@extend_schema(
    tags=["iati"],
    responses=OpenApiTypes.OBJECT,
    summary=gettext_lazy(
        "Which projects the IATI file publishes and which it leaves out, with reasons"
    ),
)
class IatiReportView(APIView):
    permission_classes = [IsAuthenticated, CanPublishIati]

    def get(self, request):
        result = iati.write_activities(io.BytesIO())
        return Response(
            {
                "published": result.published,
                "left_out": [
                    {"code": problem.code, "reasons": problem.reasons}
                    for problem in result.problems
                ],
            }
        )
