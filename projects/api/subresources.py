"""A project's child lists on the API (reviews, support decisions, progress updates): one
skeleton for all. GET lists them page by page; POST asks `projects.access` (403), checks
If-Match (428/412), validates the body (400), writes one row through its service and
answers 201 with the row and the project's new ETag.

The route's OpenAPI description is made from the same definition (`schema`), so the
schema names the serializers the route reads and writes with, and cannot drift from
them."""

from collections.abc import Callable
from dataclasses import dataclass

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from projects import access
from projects.api.etag import ETAG, IF_MATCH, expected_version
from registry.api.errors import error_responses


@dataclass(frozen=True)
class SubResource:
    # The rows of a project, in the order the list shows them.
    rows: Callable
    # The serializer the list is read with (the one documented).
    list_serializer: type
    create_serializer: type
    created_serializer: type
    # (user, project) -> whether the user may add a row; `refusal` says why not.
    may_post: Callable
    refusal: str
    # (project, actor, expected_version, data) -> the row the service wrote.
    write: Callable
    # The list as partner users read it (fewer fields; the schema marks the fields left
    # out as optional, `projects.api.schema.partner_fields_optional`).
    partner_list_serializer: type | None = None
    # (user) -> whether the user may read the list at all; `list_refusal` says why not.
    may_list: Callable | None = None
    list_refusal: str = ""
    # (user, rows) -> the rows this user may read, when not all of them.
    narrow: Callable | None = None

    def list_serializer_for(self, user) -> type:
        if self.partner_list_serializer is not None and access.is_partner_only(user):
            return self.partner_list_serializer
        return self.list_serializer

    def respond(self, view, request) -> Response:
        """The route's answer; `view` is the project viewset the route belongs to."""
        project = view.visible_project()
        user = request.user
        if request.method == "GET":
            view.only_pagination_parameters()
            if self.may_list is not None and not self.may_list(user):
                raise exceptions.PermissionDenied(str(self.list_refusal))
            rows = self.rows(project)
            if self.narrow is not None:
                rows = self.narrow(user, rows)
            return view.paginated(rows, self.list_serializer_for(user))
        if not self.may_post(user, project):
            raise exceptions.PermissionDenied(str(self.refusal))
        version = expected_version(request, project)
        serializer = self.create_serializer(
            data=request.data, context=view.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        row = self.write(
            project=project, actor=user, expected_version=version, data=serializer.validated_data
        )
        return Response(
            self.created_serializer(row).data,
            status=status.HTTP_201_CREATED,
            headers=view.etag_of(project.pk),
        )

    def schema(self, *, list_summary, create_summary, list_description=None):
        """The GET and POST operations of the route, described with its serializers."""
        list_errors = (403, 404) if self.may_list is not None else (404,)
        listing = extend_schema(
            methods=["GET"],
            summary=list_summary,
            description=list_description,
            responses={200: self.list_serializer(many=True), **error_responses(*list_errors)},
        )
        creating = extend_schema(
            methods=["POST"],
            summary=create_summary,
            parameters=[IF_MATCH, ETAG],
            request=self.create_serializer,
            responses={
                201: self.created_serializer,
                **error_responses(400, 403, 404, 409, 412, 413, 428),
            },
        )
        return lambda route: listing(creating(route))
