"""Serving the OpenAPI schema, and the post-processing that makes it say exactly what
the server accepts and answers.

drf-spectacular generates the schema by walking every view with state kept on the view
classes while it works; two generations at once in one process (threaded servers,
runserver) trip over each other and answer 500. The schema depends only on the code and
the language, so it is generated once per language under a lock and then served from
memory (which also makes a burst of anonymous schema requests cheap).
"""

import threading

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from registry.api.errors import ERROR_DESCRIPTIONS

_generated: dict[str, Response] = {}
_lock = threading.Lock()


class SchemaView(SpectacularAPIView):
    @extend_schema(exclude=True)  # the schema does not describe itself, as before
    def get(self, request, *args, **kwargs):
        language = request.GET.get("lang") or get_language()
        if language not in dict(settings.LANGUAGES):  # one cached schema per language
            raise ValidationError({"lang": [_("Choose one of the interface languages.")]})
        with _lock:
            if language not in _generated:
                _generated[language] = super().get(request, *args, **kwargs)
            generated = _generated[language]
        # A fresh Response per request: a Response is rendered (and so changed) by the
        # request that returns it.
        return Response(
            generated.data, headers={"Content-Disposition": generated.get("Content-Disposition")}
        )


@receiver(setting_changed)
def _forget_generated(**kwargs):
    """Settings changed in tests (e.g. SPECTACULAR_SETTINGS) may change the schema."""
    with _lock:
        _generated.clear()


# --- Post-processing hooks (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]) ---------------

PAGE_PARAMETERS = {"page", "page_size"}
METHODS = {"get", "put", "patch", "post", "delete", "head", "options", "trace"}


def _operations(result):
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def closed_request_bodies(result, generator, request, public):
    """Request bodies refuse keys they do not declare (`StrictSerializerMixin`), so their
    schemas say `additionalProperties: false`: a client generated from the schema, or a
    fuzzer, never sends what the server will refuse."""
    schemas = result.get("components", {}).get("schemas", {})
    for name, schema in schemas.items():
        if name.endswith("Request") and schema.get("type") == "object":
            schema["additionalProperties"] = False
            for field, definition in schema.get("properties", {}).items():
                if field in ID_PROPERTIES and definition.get("type") == "integer":
                    definition["minimum"] = 1  # row ids start at 1
    return result


ID_PROPERTIES = {"lead_unit", "partner"}


def page_parameters_and_answers(result, generator, request, public):
    """Pages are numbered from 1 and hold at least one row: `page` and `page_size` say
    `minimum: 1` (the server refuses less with a 400), and a numbered page past the end
    or a cursor the server did not write is a 404, documented on every paged list."""
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for _path, _method, operation in _operations(result):
        names = {parameter["name"] for parameter in operation.get("parameters", [])}
        for parameter in operation.get("parameters", []):
            if parameter["name"] in PAGE_PARAMETERS and parameter.get("in") == "query":
                parameter["schema"]["minimum"] = 1
        responses = operation.get("responses", {})
        if names & {"page", "cursor"} and "404" not in responses:
            responses["404"] = {
                "content": error,
                "description": str(_("No such page (past the last one, or an invalid cursor).")),
            }
        if names & PAGE_PARAMETERS and "400" not in responses:
            responses["400"] = {
                "content": error,
                "description": str(_("A page or page size that is not a positive number.")),
            }
    return result


def every_error_documented(result, generator, request, public):
    """Every answer the server can give is documented: any operation may answer 401,
    403, 429 and 503 (a statement past the time limit, `registry.timeouts`); one with
    query parameters or a body 400; one on an address with a parameter 404; one with a
    body 413. All errors are JSON in the one error shape."""
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, _method, operation in _operations(result):
        responses = operation.setdefault("responses", {})
        wanted = {401, 403, 429, 503}
        has_query = any(p.get("in") == "query" for p in operation.get("parameters", []))
        if has_query or "requestBody" in operation:
            wanted.add(400)
        if "{" in path:
            wanted.add(404)
        if "requestBody" in operation:
            wanted.add(413)
        for code in sorted(wanted):
            responses.setdefault(
                str(code), {"content": error, "description": str(ERROR_DESCRIPTIONS[code])}
            )
    return result


# Query parameters that name reference rows, by the kind of code (`reference_codes`).
CODE_PARAMETERS = {"country": "country", "country_group": "country_group"}
CODE_FILTERED = ("/api/v1/projects/", "/api/v1/stats/")
# Body properties that name reference rows, by component.
CODE_PROPERTIES = {
    "CountryShareInputRequest": {"country": "country"},
    "SectorShareInputRequest": {"sector": "sector"},
    "ProjectWriteRequest": {"currency": "currency"},
    "PatchedProjectWriteRequest": {"currency": "currency"},
    "SupportDecisionCreateRequest": {"currency": "currency"},
}
# Refused when empty (a page must be a number; a file must have a format).
NOT_EMPTY = {"page", "page_size", "format"}


def codes_and_query_values(result, generator, request, public):
    """Where a request names a country, country group, sector or currency, the schema
    lists the codes the server knows (`load_reference`; a group added later in the admin
    is accepted too, but is not in a schema generated before it). A filter given an
    empty value filters nothing (`allowEmptyValue`); query strings never hold a NUL
    character (Django's forms refuse it)."""
    from registry.reference import reference_codes

    codes = reference_codes()
    for path, _method, operation in _operations(result):
        for parameter in operation.get("parameters", []):
            if parameter.get("in") != "query":
                continue
            schema = parameter.setdefault("schema", {})
            name = parameter["name"]
            # Only the project and figures filters refuse an unknown code (400); the
            # others (partners by country, countries by group) answer an empty list.
            kind = CODE_PARAMETERS.get(name) if path.startswith(CODE_FILTERED) else None
            if name == "sector" and path.startswith(CODE_FILTERED):
                kind = "sector"
            if kind and schema.get("type") == "string":
                schema["enum"] = codes[kind]
            elif schema.get("type") == "string" and "enum" not in schema and "format" not in schema:
                schema["pattern"] = "^[^\\u0000]*$"
            if name not in NOT_EMPTY:
                parameter["allowEmptyValue"] = True
    schemas = result.get("components", {}).get("schemas", {})
    for component, properties in CODE_PROPERTIES.items():
        for name, kind in properties.items():
            field = schemas.get(component, {}).get("properties", {}).get(name)
            if field is None:
                continue
            field.pop("maxLength", None)
            field.pop("minLength", None)
            field["enum"] = codes[kind] + ([""] if kind == "currency" else [])
    return result
