"""Post-processing of the OpenAPI schema for what only the projects API knows."""

from django.utils.translation import gettext as _

from projects.api.serializers import STAFF_ONLY_FIELDS


def staff_only_fields_optional(result, generator, request, public):
    """One `Project` shape serves every role, and partner users receive it without the
    staff-only fields: the schema marks those as not required, so a client generated
    from it reads a partner's projects (openapi-python-client raised KeyError)."""
    schemas = result.get("components", {}).get("schemas", {})
    note = _("Left out for partner users.")
    # The list's shape and the detail's (which adds the sites).
    for project in (schemas.get(name) for name in ("Project", "ProjectDetail")):
        if project is None:
            continue
        project["required"] = [
            name for name in project["required"] if name not in STAFF_ONLY_FIELDS
        ]
        for name in STAFF_ONLY_FIELDS:
            field = project["properties"][name]
            field["description"] = (
                f"{field['description']} {note}" if field.get("description") else note
            )
    return result


def geojson_filters_as_the_list(result, generator, request, public):
    """`sites.geojson` takes the project list's filters (the same FilterSet): its query
    parameters are described exactly as the list's (types, formats, codes), so what the
    schema allows the server accepts, on both routes alike."""
    paths = result.get("paths", {})
    listing = paths.get("/api/v1/projects/", {}).get("get", {})
    geojson = paths.get("/api/v1/sites.geojson", {}).get("get")
    if not listing or geojson is None:
        return result
    described = {p["name"]: p for p in listing.get("parameters", []) if p.get("in") == "query"}
    geojson["parameters"] = [
        dict(described[p["name"]])
        if p.get("in") == "query" and p["name"] in described and p["name"] != "format"
        else p
        for p in geojson.get("parameters", [])
    ]
    return result
