"""Read-only API for pipeline figures and IATI publication.

Figures are computed by `projects.reporting.stats` over the projects the user may see
(`access.visible_projects`); who may call what is decided in `projects.access`.
"""

import io
import tempfile

from django.conf import settings
from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from projects import access
from projects.api.filters import StatsFilter
from projects.reporting import iati, stats
from registry.api.errors import error_responses
from registry.api.filters import alias_parameters, check_query_parameters
from registry.jobs.running import start_job
from registry.jobs.views import job_status


class CanViewStats(BasePermission):
    def has_permission(self, request, view):
        return access.can_view_stats(request.user)


class CanPublishIati(BasePermission):
    def has_permission(self, request, view):
        return access.can_publish_iati(request.user)


class _FiguresView(GenericAPIView):
    """Figures over the projects the project list would show with the same filters
    (`StatsFilter`: the list's FilterSet and a period), among those the user may see."""

    permission_classes = [IsAuthenticated, CanViewStats]
    filterset_class = StatsFilter
    pagination_class = None
    figures = None

    def get_queryset(self):
        return access.visible_projects(self.request.user)

    def get(self, request):
        # The figures are no page: a page parameter is as unknown as any other.
        check_query_parameters(request, StatsFilter.parameter_names(), paged=False)
        self.filter_queryset(self.get_queryset())  # checks the filters (400) and keeps them
        return Response(type(self).figures(self.filterset.selection()))


def _figures_schema(summary):
    return extend_schema(
        tags=["stats"],
        filters=True,
        parameters=alias_parameters(StatsFilter),
        responses={200: OpenApiTypes.OBJECT, **error_responses(400, 403)},
        summary=summary,
        description=gettext_lazy(
            "Takes the project list's filters (the same FilterSet, the same meaning) and a "
            "period of whole local days, over the projects the user may see."
        ),
    )


@_figures_schema(
    gettext_lazy("Counts and estimated value by status, kind, sector, country, group and lead unit")
)
class SummaryView(_FiguresView):
    figures = staticmethod(stats.summary)


@_figures_schema(
    gettext_lazy("Balance indicators: people-to-people share, kinds, concentration, coverage")
)
class BalanceView(_FiguresView):
    figures = staticmethod(stats.balance)


@_figures_schema(
    gettext_lazy("Flow: entries per stage and month, selection rate, median days, overdue reviews")
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
