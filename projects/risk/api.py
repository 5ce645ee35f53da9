"""`/api/v1/warnings/`: the live and past warnings, for office staff only."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, viewsets

from projects.risk import access as risk_access
from projects.risk.models import Warning
from registry.api.errors import error_responses
from registry.api.filters import check_query_parameters
from registry.api.pagination import PagePagination


class WarningSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="code", read_only=True)
    detail = serializers.SerializerMethodField(
        help_text=gettext_lazy("What causes the warning, in the request's language.")
    )
    params = serializers.JSONField(
        read_only=True,
        help_text=gettext_lazy(
            "The facts of the cause the detail is written from (dates, figures, country); "
            "null for warnings raised before they were kept."
        ),
    )
    state = serializers.SerializerMethodField()

    class Meta:
        model = Warning
        fields = (
            "id",
            "kind",
            "severity",
            "project",
            "subject",
            "detail",
            "params",
            "state",
            "first_seen",
            "last_seen",
            "resolved_at",
            "dismissed_at",
            "dismiss_reason",
        )

    def get_detail(self, warning) -> str:
        return warning.description

    def get_state(self, warning) -> str:
        if warning.resolved_at:
            return "resolved"
        return "dismissed" if warning.dismissed_at else "open"


class WarningQuery(forms.Form):
    kind = forms.ChoiceField(choices=Warning.Kind.choices, required=False)
    severity = forms.TypedChoiceField(
        choices=Warning.Severity.choices, coerce=int, required=False, empty_value=None
    )
    state = forms.ChoiceField(
        choices=[("open", "open"), ("dismissed", "dismissed"), ("resolved", "resolved")],
        required=False,
    )
    project = forms.CharField(max_length=20, required=False)


PARAMETERS = [
    OpenApiParameter("kind", OpenApiTypes.STR, enum=Warning.Kind.values),
    OpenApiParameter("severity", OpenApiTypes.INT, enum=Warning.Severity.values),
    OpenApiParameter("state", OpenApiTypes.STR, enum=["open", "dismissed", "resolved"]),
    OpenApiParameter("project", OpenApiTypes.STR, description=gettext_lazy("Project code.")),
]


@extend_schema_view(
    list=extend_schema(
        summary=gettext_lazy("Risk warnings (office staff only)"),
        parameters=PARAMETERS,
        responses={200: WarningSerializer(many=True), **error_responses(400, 403)},
    ),
    retrieve=extend_schema(
        summary=gettext_lazy("A risk warning (office staff only)"),
        responses={200: WarningSerializer, **error_responses(403, 404)},
    ),
)
class WarningViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = WarningSerializer
    pagination_class = PagePagination
    filter_backends = []
    queryset = Warning.objects.none()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not risk_access.sees_risk(request.user):
            raise exceptions.PermissionDenied(_("Warnings are for office staff."))

    def get_queryset(self):
        rows = Warning.objects.select_related("project").order_by("-severity", "-first_seen", "-id")
        rows = risk_access.visible_warnings(self.request.user, rows)
        if self.action != "list":
            return rows
        check_query_parameters(self.request, ("kind", "severity", "state", "project"))
        query = WarningQuery(self.request.query_params)
        if not query.is_valid():
            error = exceptions.ValidationError(query.errors)
            raise error
        data = query.cleaned_data
        if data["kind"]:
            rows = rows.filter(kind=data["kind"])
        if data["severity"] is not None:
            rows = rows.filter(severity=data["severity"])
        if data["project"]:
            rows = rows.filter(project__code=data["project"])
        if data["state"] == "open":
            rows = rows.filter(resolved_at__isnull=True, dismissed_at__isnull=True)
        elif data["state"] == "dismissed":
            rows = rows.filter(resolved_at__isnull=True, dismissed_at__isnull=False)
        elif data["state"] == "resolved":
            rows = rows.filter(resolved_at__isnull=False)
        return rows
