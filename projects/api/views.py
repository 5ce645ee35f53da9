"""`/api/v1/projects/…`: the pool through HTTP.

Every route first finds the project among those the user may see
(`access.visible_projects`), so a project outside a partner's reach is a 404 on every
route. Writes then ask `projects.access` whether the user may do this at all (403),
check If-Match (428/412), validate the body (400) and call the one service function
that does the write (`projects.services`), passing the expected version so a race is
refused under the row lock (412).
"""

from django.db import connections
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from projects import access, history, selectors, services, workflow
from projects.api import search
from projects.api import serializers as s
from projects.api.etag import ETAG, IF_MATCH, expected_version, not_modified, project_etag
from projects.api.filters import ProjectFilter
from projects.api.listing import ProjectListOutput
from projects.api.subresources import SubResource
from projects.models import Project, Review, Site
from projects.reporting import exports
from projects.tasks import background_export
from registry.api.errors import error_responses
from registry.api.filters import check_query_parameters
from registry.api.pagination import (
    PagePagination,
    SyncCursorPagination,
    cursor_page_schema,
    sync_parameters,
)
from registry.jobs.views import job_status

# Routes that render pages of project rows (`selectors`, `listing`).
LIST_ACTIONS = frozenset({"list", "sync"})

FORM_SERIALIZERS = {
    "history": s.HistoryEntrySerializer,
    "reviews": s.ReviewCreateSerializer,
    "support_decisions": s.SupportDecisionCreateSerializer,
    "progress_updates": s.ProgressUpdateCreateSerializer,
    "transitions": s.TransitionRequestSerializer,
}


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"


class XLSXRenderer(BaseRenderer):
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"
    charset = None


FILE_RENDERERS = (CSVRenderer, XLSXRenderer)


def _describe_transition(transition: workflow.Transition, project: Project) -> dict:
    """One entry of `workflow.available_transitions` as the API shows it: the status it
    leads to for this project (`resume` returns to the status before the suspension)."""
    return {
        "action": transition.name,
        "label": str(transition.label),
        "to_status": workflow.resolve_target(transition, project),
        "reason_required": transition.requires_reason,
    }


REVIEWS = SubResource(
    rows=lambda project: project.reviews.select_related("reviewer").order_by("round", "created_at"),
    list_serializer=s.ReviewSerializer,
    may_list=access.can_view_reviews,
    list_refusal=gettext_lazy("Reviews are for reviewers and managers."),
    # No other score of the current round before one's own review (as in the admin).
    narrow=access.visible_reviews,
    create_serializer=s.ReviewCreateSerializer,
    created_serializer=s.ReviewSerializer,
    may_post=access.can_review,
    refusal=gettext_lazy("You may not review this project."),
    write=lambda project, actor, expected_version, data: services.review_record(
        project=project,
        reviewer=actor,
        scores={name: data[name] for name in Review.CRITERIA},
        recommendation=data["recommendation"],
        conflict_declaration=data["conflict_declaration"],
        conflict_note=data["conflict_note"],
        comment=data["comment"],
        expected_version=expected_version,
    ),
)
SUPPORT_DECISIONS = SubResource(
    rows=lambda project: project.support_decisions.select_related("decided_by").order_by(
        "-decided_on", "-id"
    ),
    list_serializer=s.SupportDecisionSerializer,
    partner_list_serializer=s.PartnerSupportDecisionSerializer,
    create_serializer=s.SupportDecisionCreateSerializer,
    created_serializer=s.SupportDecisionSerializer,
    may_post=lambda user, project: access.can_decide(user),
    refusal=gettext_lazy("Only managers decide on support."),
    write=lambda project, actor, expected_version, data: services.support_decide(
        project=project, actor=actor, expected_version=expected_version, **data
    ),
)
PROGRESS_UPDATES = SubResource(
    rows=lambda project: project.progress_updates.select_related("author", "partner").order_by(
        "-reported_on", "-id"
    ),
    list_serializer=s.ProgressUpdateSerializer,
    partner_list_serializer=s.PartnerProgressUpdateSerializer,
    create_serializer=s.ProgressUpdateCreateSerializer,
    created_serializer=s.ProgressUpdateSerializer,
    may_post=access.can_post_progress,
    refusal=gettext_lazy("You may not post updates on this project."),
    write=lambda project, actor, expected_version, data: services.progress_post(
        project=project, actor=actor, expected_version=expected_version, **data
    ),
)


@extend_schema_view(
    list=extend_schema(
        summary=gettext_lazy("List projects"),
        description=gettext_lazy(
            "Projects the user may see, filtered and ordered; partner users see only the "
            "projects their institution takes part in, without internal fields."
        ),
        responses={200: s.ProjectSerializer(many=True), **error_responses(400)},
    ),
    retrieve=extend_schema(
        summary=gettext_lazy("Read a project"),
        parameters=[ETAG],
        responses={
            200: s.ProjectDetailSerializer,
            304: OpenApiResponse(description=gettext_lazy("Not modified (If-None-Match).")),
            **error_responses(404),
        },
    ),
    create=extend_schema(
        summary=gettext_lazy("Enter a project (as a draft)"),
        parameters=[ETAG],
        request=s.ProjectWriteSerializer,
        responses={201: s.ProjectDetailSerializer, **error_responses(400, 403, 413)},
    ),
    update=extend_schema(
        summary=gettext_lazy("Replace a project's data"),
        parameters=[IF_MATCH, ETAG],
        request=s.ProjectWriteSerializer,
        responses={200: s.ProjectDetailSerializer, **error_responses(400, 403, 404, 412, 413, 428)},
    ),
    partial_update=extend_schema(
        summary=gettext_lazy("Change some of a project's data"),
        parameters=[IF_MATCH, ETAG],
        request=s.ProjectWriteSerializer(partial=True),
        responses={200: s.ProjectDetailSerializer, **error_responses(400, 403, 404, 412, 413, 428)},
    ),
)
class ProjectViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    lookup_field = "code"
    lookup_value_regex = r"[A-Za-z0-9_.-]+"
    filterset_class = ProjectFilter
    pagination_class = PagePagination
    serializer_class = s.ProjectSerializer

    # --- Helpers --------------------------------------------------------------------

    def get_queryset(self):
        # The list routes read rows (`selectors`), the others instances with their relations.
        projects = (
            Project.objects.all()
            if self.action in LIST_ACTIONS
            else Project.objects.with_relations(tag_names=True).prefetch_related(
                Prefetch("sites", Site.objects.current().order_by("id"), to_attr="current_sites")
            )
        )
        return access.visible_projects(self.request.user, projects)

    def get_serializer_class(self):
        # The views build their serializers explicitly; this choice feeds the browsable
        # API's forms (which call it with the form's method).
        if self.action in {"create", "update", "partial_update"} and self.request.method != "GET":
            return s.ProjectWriteSerializer
        if self.action in FORM_SERIALIZERS:
            return FORM_SERIALIZERS[self.action]
        partner = access.is_partner_only(self.request.user)
        if self.action in LIST_ACTIONS:
            return s.PartnerProjectSerializer if partner else s.ProjectSerializer
        # One project (read or written) comes with its sites.
        return s.PartnerProjectDetailSerializer if partner else s.ProjectDetailSerializer

    def may_show_form(self, method: str, obj) -> bool:
        """Whether the browsable API draws a `method` form here
        (`registry.api.renderers`): only for a write the user may make, so no form
        carries a field the user may not read. DRF sets `self.action` to the form's."""
        user = self.request.user
        if self.action == "create":
            return access.can_create_project(user)
        if self.action in {"update", "partial_update"}:
            return isinstance(obj, Project) and bool(workflow.editable_fields(user, obj))
        if method != "POST":
            return False
        if self.action == "progress_updates":
            return access.can_post_progress(user, self.visible_project())
        if self.action == "reviews":
            return access.can_review(user, self.visible_project())
        if self.action == "support_decisions":
            return access.can_decide(user)
        if self.action == "transitions":
            return not access.is_partner_only(user)
        return False

    def get_object(self):
        # No list filters on a detail route: the project is found by code among those
        # visible, or it is a 404.
        return get_object_or_404(self.get_queryset(), code=self.kwargs["code"])

    def visible_project(self) -> Project:
        """The project of a sub-resource route, without its relations (one query)."""
        return get_object_or_404(
            access.visible_projects(self.request.user), code=self.kwargs["code"]
        )

    def project_response(self, project_pk: int, status_code=status.HTTP_200_OK) -> Response:
        project = self.get_queryset().get(pk=project_pk)
        serializer_class = (
            s.PartnerProjectDetailSerializer
            if access.is_partner_only(self.request.user)
            else s.ProjectDetailSerializer
        )
        data = serializer_class(project, context=self.get_serializer_context()).data
        return Response(data, status=status_code, headers={"ETag": project_etag(project)})

    def etag_of(self, project_pk: int) -> dict:
        """The project's ETag after a child write (which may have bumped its version)."""
        return {"ETag": project_etag(Project.objects.only("code", "version").get(pk=project_pk))}

    def internal_fields(self) -> bool:
        """Whether the user sees the fields only staff see."""
        return not access.is_partner_only(self.request.user)

    def rendered_page(self, page: list[dict]) -> Response:
        """A page of complete rows (`selectors`) as the list serializer renders it."""
        output = ProjectListOutput(self.get_serializer_context(), internal=self.internal_fields())
        return self.get_paginated_response(output.render(page))

    def paginated(self, rows, serializer_class):
        page = self.paginate_queryset(rows)
        data = serializer_class(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)

    def only_pagination_parameters(self):
        check_query_parameters(self.request, ())

    # --- Project itself -------------------------------------------------------------

    def list(self, request, *args, **kwargs):
        projects = self.filter_queryset(self.get_queryset())
        pages = selectors.ProjectPages(
            projects, internal=self.internal_fields(), plan=self.search_plan()
        )
        return self.rendered_page(self.paginate_queryset(pages))

    def search_plan(self) -> search.SearchPlan | None:
        """With a search in the default order, on PostgreSQL: the plan that reads its
        pages and count within bounds for any term (`search.SearchPlan`)."""
        filterset = getattr(self, "filterset", None)
        before_search = getattr(filterset, "before_search", None)
        if (
            before_search is None
            or "ordering" in self.request.query_params
            or connections[before_search.db].vendor != "postgresql"
        ):
            return None
        return search.SearchPlan(before_search, filterset.search_text)

    def retrieve(self, request, *args, **kwargs):
        check_query_parameters(request, ())
        project = self.get_object()
        if not_modified(request, project):
            return Response(
                status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": project_etag(project)}
            )
        data = self.get_serializer(project).data
        return Response(data, headers={"ETag": project_etag(project)})

    def create(self, request, *args, **kwargs):
        if not access.can_create_project(request.user):
            raise exceptions.PermissionDenied(_("Only officers enter projects."))
        serializer = s.ProjectWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = services.project_create(
            actor=request.user, **serializer.service_arguments(replace=True)
        )
        response = self.project_response(project.pk, status.HTTP_201_CREATED)
        # A str: the serialized url is a DRF Hyperlink, which WSGI servers that check
        # header types (wsgiref, so runserver) refuse with a 500 after the create.
        response["Location"] = str(response.data["url"])
        return response

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        project = self.visible_project()
        if not access.can_change_project(request.user, project):
            raise exceptions.PermissionDenied(_("You may only change projects of your own unit."))
        if not workflow.editable_fields(request.user, project):
            raise exceptions.PermissionDenied(
                _("You may change nothing of a project that is %(status)s.")
                % {"status": workflow.status_label(project.status)}
            )
        version = expected_version(request, project)
        serializer = s.ProjectWriteSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        project, _changed = services.project_update(
            actor=request.user,
            project=project,
            expected_version=version,
            **serializer.service_arguments(replace=not partial),
        )
        return self.project_response(project.pk)

    # --- Lists beside the main one --------------------------------------------------

    @extend_schema(
        summary=gettext_lazy("Projects changed since a time, for synchronisation"),
        description=gettext_lazy(
            "Cursor-paginated, ordered by (updated_at, id); takes the same filters as the "
            "list. Follow `next` to the end, then start the next sync with updated_since "
            "set to the last row's updated_at; a project changed again reappears."
        ),
        filters=True,
        parameters=sync_parameters(),
        responses={
            200: cursor_page_schema("ProjectSyncPage", s.ProjectSerializer),
            **error_responses(400),
        },
    )
    @action(detail=False, methods=["get"], pagination_class=SyncCursorPagination)
    def sync(self, request):
        projects = self.filter_queryset(self.get_queryset())
        # The cursor is read from the rows' `updated_at`, one of their keys.
        rows = selectors.project_rows(projects, internal=self.internal_fields())
        return self.rendered_page(selectors.add_lists(self.paginate_queryset(rows), using=rows.db))

    @extend_schema(
        summary=gettext_lazy("Export the filtered projects"),
        description=gettext_lazy(
            "CSV (streamed) or XLSX of the projects the list would show with the same "
            "filters. Staff only."
        ),
        parameters=[
            OpenApiParameter(
                "format",
                OpenApiTypes.STR,
                enum=["csv", "xlsx"],
                default="csv",
                description=gettext_lazy("File format."),
            )
        ],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (
                200,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ): OpenApiTypes.BINARY,
            **error_responses(400, 403),
        },
    )
    @action(
        detail=False,
        methods=["get"],
        renderer_classes=[CSVRenderer, XLSXRenderer, JSONRenderer],
        pagination_class=None,
    )
    def export(self, request):
        if not access.is_staff_member(request.user):
            raise exceptions.PermissionDenied(_("Exports are for office staff."))
        file_format = request.query_params.get("format", "csv")
        if file_format not in {"csv", "xlsx"}:
            raise exceptions.ValidationError({"format": [_("Choose csv or xlsx.")]})
        queryset = self.filter_queryset(access.visible_projects(request.user))
        language = get_language()
        job = background_export(
            user=request.user, queryset=queryset, file_format=file_format, language=language
        )
        if job is not None:
            # Too large for one request: a worker builds the file; follow the job's URL.
            self.request.accepted_renderer = JSONRenderer()
            self.request.accepted_media_type = JSONRenderer.media_type
            return Response(
                job_status(job),
                status=202,
                headers={"Location": reverse("job-status", args=[job.pk])},
            )
        if file_format == "xlsx":
            return exports.projects_xlsx_response(queryset, language=language)
        return exports.stream_projects_csv(queryset, language=language)

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        renderer = getattr(self.request, "accepted_renderer", None)
        if renderer is None or isinstance(renderer, FILE_RENDERERS):
            # Errors of the file endpoint (a wrong method, an Accept it cannot serve)
            # are JSON like every other error: the file renderers render only files.
            self.request.accepted_renderer = JSONRenderer()
            self.request.accepted_media_type = JSONRenderer.media_type
        return response

    def perform_content_negotiation(self, request, force=False):
        if getattr(self, "action", None) == "export":
            file_format = request.query_params.get("format", "csv")
            renderer = XLSXRenderer() if file_format == "xlsx" else CSVRenderer()
            return renderer, renderer.media_type
        if any(issubclass(cls, FILE_RENDERERS) for cls in self.renderer_classes):
            # Any other method on the export's address (OPTIONS, TRACE, …) answers JSON.
            return JSONRenderer(), JSONRenderer.media_type
        return super().perform_content_negotiation(request, force)

    # --- Sub-resources --------------------------------------------------------------

    @extend_schema(
        summary=gettext_lazy("The project's history"),
        description=gettext_lazy(
            "Every change with actor, time and old/new values, and every status change "
            "with its reason. Partner users see the status changes only."
        ),
        responses={200: s.HistoryEntrySerializer(many=True), **error_responses(404)},
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def history(self, request, code=None):
        self.only_pagination_parameters()
        project = self.visible_project()
        if access.is_partner_only(request.user):
            entries = history.partner_history(project, viewer=request.user)
        else:
            entries = history.project_history(project, viewer=request.user)
        return self.paginated(entries, s.HistoryEntrySerializer)

    @REVIEWS.schema(
        list_summary=gettext_lazy("The project's screening reviews"),
        create_summary=gettext_lazy("Record a review"),
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def reviews(self, request, code=None):
        return REVIEWS.respond(self, request)

    @SUPPORT_DECISIONS.schema(
        list_summary=gettext_lazy("Support granted to the project"),
        list_description=gettext_lazy("Partner users see the decisions without their conditions."),
        create_summary=gettext_lazy("Decide on support (managers)"),
    )
    @action(detail=True, methods=["get", "post"], url_path="support-decisions", filter_backends=[])
    def support_decisions(self, request, code=None):
        return SUPPORT_DECISIONS.respond(self, request)

    @PROGRESS_UPDATES.schema(
        list_summary=gettext_lazy("Progress updates on the project"),
        create_summary=gettext_lazy(
            "Post a progress update (staff of the project or its partners)"
        ),
    )
    @action(detail=True, methods=["get", "post"], url_path="progress-updates", filter_backends=[])
    def progress_updates(self, request, code=None):
        return PROGRESS_UPDATES.respond(self, request)

    @extend_schema(
        methods=["GET"],
        summary=gettext_lazy("Workflow actions the user may take now"),
        responses={200: s.AvailableTransitionSerializer(many=True), **error_responses(404)},
    )
    @extend_schema(
        methods=["POST"],
        summary=gettext_lazy("Take a workflow action (submit, select, suspend, …)"),
        parameters=[IF_MATCH, ETAG],
        request=s.TransitionRequestSerializer,
        responses={
            200: s.ProjectDetailSerializer,
            **error_responses(400, 403, 404, 409, 412, 413, 428),
        },
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def transitions(self, request, code=None):
        project = self.visible_project()
        if request.method == "GET":
            check_query_parameters(request, ())

            available = [
                _describe_transition(t, project)
                for t in workflow.available_transitions(project, request.user)
            ]
            return Response(s.AvailableTransitionSerializer(available, many=True).data)
        if access.is_partner_only(request.user):
            raise exceptions.PermissionDenied(_("Partners do not take workflow actions."))
        version = expected_version(request, project)
        serializer = s.TransitionRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # The action's name is checked by the service, with the transition table.
        project = services.project_transition(
            project=project,
            actor=request.user,
            action=data["action"],
            reason=data["reason"],
            reason_visible_to_partners=data["reason_visible_to_partners"],
            expected_version=version,
        )
        return self.project_response(project.pk)
