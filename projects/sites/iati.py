"""IATI 2.03 `<location>` for a project's sites.

Each current site becomes one location: its names as narratives, the administrative
area as a description, a WGS 84 point (`srsName` EPSG 4326, `pos` "latitude longitude"
as the standard asks), GeographicExactness (1 exact, 2 approximate), LocationReach 1
(the activity happens here), GeographicLocationClass and a FeatureDesignation (GeoNames
feature code) from the facility type.
"""

from lxml import etree

from projects.sites.models import Exactness, FacilityType

SRS_NAME = "http://www.opengis.net/def/crs/EPSG/0/4326"

EXACTNESS = {Exactness.EXACT: "1", Exactness.APPROXIMATE: "2"}

# GeographicLocationClass: 1 administrative region, 2 populated place, 3 structure,
# 4 other topographical feature. Every facility is a structure; "other" says nothing.
STRUCTURE, OTHER_FEATURE = "3", "4"

# FeatureDesignation (GeoNames feature codes). A dry port is an inland rail-served
# terminal (railroad yard); warehouses and distribution centres have no code of their
# own and are buildings. "Other" gets none rather than a guess.
FEATURE_DESIGNATION = {
    FacilityType.PORT: "PRT",
    FacilityType.INDUSTRIAL_PARK: "INDS",
    FacilityType.DRY_PORT: "RYD",
    FacilityType.RAIL_TERMINAL: "RSTN",
    FacilityType.BORDER_CROSSING: "PSTB",
    FacilityType.DISTRIBUTION_CENTRE: "BLDG",
    FacilityType.OVERSEAS_WAREHOUSE: "BLDG",
    FacilityType.SCHOOL: "SCH",
    FacilityType.HOSPITAL: "HSP",
    FacilityType.OFFICE: "BLDO",
}

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _narratives(parent, zh: str, en: str) -> None:
    for language, text in (("zh", zh), ("en", en)):
        if text:
            etree.SubElement(parent, "narrative", {XML_LANG: language}).text = text


def location_element(site, *, ref_prefix: str) -> etree._Element:
    location = etree.Element("location", ref=f"{ref_prefix}-S{site.pk}")
    etree.SubElement(location, "location-reach", code="1")
    _narratives(etree.SubElement(location, "name"), site.name_zh, site.name_en)
    if site.admin_area:
        _narratives(etree.SubElement(location, "description"), "", site.admin_area)
    point = etree.SubElement(location, "point", srsName=SRS_NAME)
    etree.SubElement(point, "pos").text = f"{site.latitude:f} {site.longitude:f}"
    etree.SubElement(location, "exactness", code=EXACTNESS.get(site.exactness, "2"))
    location_class = OTHER_FEATURE if site.facility_type == FacilityType.OTHER else STRUCTURE
    etree.SubElement(location, "location-class", code=location_class)
    if site.facility_type in FEATURE_DESIGNATION:
        etree.SubElement(
            location, "feature-designation", code=FEATURE_DESIGNATION[site.facility_type]
        )
    return location
