"""One error shape for the whole API:

    {"error": {"code": "stale_write", "message": "…", "fields": {"title_zh": ["…"]}}}

`code` is stable and machine-readable; `message` is in the request's language
(Accept-Language: zh-hans or en); `fields` holds per-field messages for 400s.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from registry.errors import DomainError, StaleWrite


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_code = "precondition_required"
    default_detail = _(
        "Send the project's ETag in an If-Match header (read it from the project first)."
    )


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = StaleWrite.code
    default_detail = StaleWrite.default_message


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"
    default_detail = _("The request body is too large.")


class UnknownParameter(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "unknown_parameter"
    default_detail = _("Unknown query parameter.")


# Codes for DRF exceptions whose default codes say less than they could.
GENERIC_MESSAGES = {
    "invalid": _("The data is not valid."),
    "parse_error": _("The request body could not be read."),
}


def flatten_fields(detail, prefix: str = "") -> dict[str, list[str]]:
    """Field errors as {"path": ["message", …]}; nested rows are named by dotted paths
    (`countries.1.share`), so every value is a flat list of messages."""
    out: dict[str, list[str]] = {}
    key = prefix or "non_field_errors"
    if isinstance(detail, dict):
        for name, value in detail.items():
            out.update(flatten_fields(value, f"{prefix}.{name}" if prefix else str(name)))
    elif isinstance(detail, (list, tuple)):
        for index, item in enumerate(detail):
            if isinstance(item, (dict, list, tuple)):
                if item:
                    out.update(flatten_fields(item, f"{prefix}.{index}" if prefix else str(index)))
            else:
                out.setdefault(key, []).append(str(item))
    else:
        out.setdefault(key, []).append(str(detail))
    return out


def error_body(code: str, message, fields: dict | None = None) -> dict:
    body = {"code": code, "message": str(message)}
    if fields:
        body["fields"] = fields
    return {"error": body}


def exception_handler(exc, context):
    """DRF exception handler producing the one error shape."""
    # Imported here: importing `rest_framework.views` reads the API settings, whose
    # parser (`registry.api.parsers`) imports this module.
    from rest_framework import views

    headers = {}
    if isinstance(exc, DomainError):
        views.set_rollback()
        # Each domain error says its status; the base knows no domain error by name.
        fields = flatten_fields(exc.field_errors) if exc.field_errors else None
        return Response(error_body(exc.code, exc.message, fields), status=exc.status_code)

    if isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a real bug: let Django report it as a 500

    views.set_rollback()
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    if isinstance(exc, exceptions.ValidationError):
        body = error_body("invalid", GENERIC_MESSAGES["invalid"], flatten_fields(exc.detail))
    else:
        detail = exc.detail
        if isinstance(detail, (list, dict)):
            message = GENERIC_MESSAGES.get(exc.default_code, exc.default_detail)
        else:
            message = detail
        code = getattr(detail, "code", None) or exc.default_code
        if code in {"error", "invalid"} or not isinstance(code, str):
            code = exc.default_code
        body = error_body(code, message, getattr(exc, "fields", None))
    return Response(body, status=exc.status_code, headers=headers)


# --- Documentation -------------------------------------------------------------------


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("Machine-readable error code."))
    message = serializers.CharField(help_text=_("Human-readable message (zh-hans or en)."))
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text=_(
            "Messages per field, for invalid data; fields of list rows are named by "
            "dotted paths, e.g. countries.1.share."
        ),
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


ERROR_DESCRIPTIONS = {
    400: _("Invalid data, an unknown query parameter or an unreadable body."),
    401: _("Not authenticated, or the token is invalid, expired or revoked."),
    403: _("Authenticated, but not allowed to do this."),
    404: _("Not found, or not visible to this user."),
    409: _("The workflow action is not possible in the project's current state."),
    412: _("If-Match does not match the project's current ETag: reload and retry."),
    413: _("The request body is too large."),
    428: _("If-Match is required for this write."),
    429: _("Too many requests; retry after the time in Retry-After."),
    503: _(
        "The database made the request wait too long (a statement past the time limit, "
        "or a write lock not granted in time); retry after the time in Retry-After."
    ),
}


def error_responses(*codes: int) -> dict:
    """OpenAPI responses for the given error status codes (401 and 429 always)."""
    wanted = sorted({401, 429, *codes})
    return {
        code: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code])
        for code in wanted
    }
