"""A project's child lists on the API (reviews, support decisions, progress updates): one
skeleton for all. GET lists them page by page; POST asks `projects.access` (403), checks
If-Match (428/412), validates the body (400), writes one row through its service and
answers 201 with the row and the project's new ETag."""

from collections.abc import Callable
from dataclasses import dataclass

from rest_framework import exceptions, status
from rest_framework.response import Response

from projects.api.etag import expected_version


@dataclass(frozen=True)
class SubResource:
    # The rows of a project, in the order the list shows them.
    rows: Callable
    # (user) -> the serializer class the list is read with (partners see less).
    list_serializer: Callable
    create_serializer: type
    created_serializer: type
    # (user, project) -> whether the user may add a row; `refusal` says why not.
    may_post: Callable
    refusal: str
    # (project, actor, expected_version, data) -> the row the service wrote.
    write: Callable
    # (user) -> whether the user may read the list at all; `list_refusal` says why not.
    may_list: Callable | None = None
    list_refusal: str = ""
    # (user, rows) -> the rows this user may read, when not all of them.
    narrow: Callable | None = None

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
            return view.paginated(rows, self.list_serializer(user))
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
