"""Post-processing of the OpenAPI schema for what only the projects API knows."""

from django.utils.translation import gettext as _

from projects.api import serializers as s


def _left_out(staff, partner) -> list[str]:
    return [name for name in staff.Meta.fields if name not in partner.Meta.fields]


# Components one shape serves to every role, and the fields partner users do not receive.
PARTNER_LEAVES_OUT = {
    # The list's shape and the detail's (which adds the sites).
    "Project": _left_out(s.ProjectSerializer, s.PartnerProjectSerializer),
    "ProjectDetail": _left_out(s.ProjectDetailSerializer, s.PartnerProjectDetailSerializer),
    "SupportDecision": _left_out(s.SupportDecisionSerializer, s.PartnerSupportDecisionSerializer),
}


def staff_only_fields_optional(result, generator, request, public):
    """One shape serves every role, and partner users receive it without the staff-only
    fields (the project's internal notes, a support decision's conditions): the schema
    marks those as not required, so a client generated from it reads a partner's answers
    (openapi-python-client raised KeyError)."""
    schemas = result.get("components", {}).get("schemas", {})
    note = _("Left out for partner users.")
    for component, left_out in PARTNER_LEAVES_OUT.items():
        shape = schemas.get(component)
        if shape is None:
            continue
        shape["required"] = [name for name in shape.get("required", []) if name not in left_out]
        for name in left_out:
            field = shape["properties"][name]
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
