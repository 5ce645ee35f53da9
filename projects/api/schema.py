"""Post-processing of the OpenAPI schema for what only the projects API knows."""

from django.utils.translation import gettext as _

from projects.api.serializers import STAFF_ONLY_FIELDS


def staff_only_fields_optional(result, generator, request, public):
    """One `Project` shape serves every role, and partner users receive it without the
    staff-only fields: the schema marks those as not required, so a client generated
    from it reads a partner's projects (openapi-python-client raised KeyError)."""
    project = result.get("components", {}).get("schemas", {}).get("Project")
    if project is None:
        return result
    project["required"] = [name for name in project["required"] if name not in STAFF_ONLY_FIELDS]
    note = _("Left out for partner users.")
    for name in STAFF_ONLY_FIELDS:
        field = project["properties"][name]
        field["description"] = (
            f"{field['description']} {note}" if field.get("description") else note
        )
    return result
