"""The list routes' output (`list`, `sync`): rows of `projects.selectors`, rendered key
by key by an explicit output serializer over dicts.

`ProjectSerializer` documents the shape (the schema) and renders single projects. A page
of 50 is rendered here from its rows: the same keys in the same order, each value
formatted by the DRF field class the serializer uses for it (dates, times in the
current time zone, decimals as `COERCE_DECIMAL_TO_STRING` says), so a page is byte for
byte what the serializer gives (`tests/test_api_listing.py` compares them). Rendering
the rows through a DRF `Serializer` of the same fields took ~16 ms a page of 50 on the
bench machine (a nested serializer per country, sector, participation and partner),
this ~1 ms.
"""

from types import SimpleNamespace

from rest_framework import serializers

from projects.models import Status, split_tag_names
from projects.selectors import list_key

# Stands for the code in the one project URL reversed per page. Project codes are
# generated (`format_project_code`), so `reverse()` puts them into the path unchanged.
CODE_PLACEHOLDER = "CODE"


class _ProjectUrl(serializers.Serializer):
    """The project's URL as `ProjectSerializer` gives it (request, host, format)."""

    url = serializers.HyperlinkedIdentityField(view_name="api:project-detail", lookup_field="code")


class ProjectListOutput:
    """Renders rows of `selectors.project_rows` (complete, with their lists) as
    `ProjectSerializer` (`internal`) or `PartnerProjectSerializer` renders projects.
    Built per page: the formats read the settings and the request."""

    def __init__(self, context: dict, *, internal: bool):
        self.internal = internal
        url = str(_ProjectUrl(SimpleNamespace(code=CODE_PLACEHOLDER), context=context).data["url"])
        self.url_head, self.url_tail = url.rsplit(CODE_PLACEHOLDER, 1)
        # `get_status_display()`, each label translated once per page.
        self.status_labels = {value: str(label) for value, label in Status.choices}
        # The fields `ProjectSerializer` (a ModelSerializer) has for these columns.
        self.date = serializers.DateField().to_representation
        self.datetime = serializers.DateTimeField().to_representation
        self.money = serializers.DecimalField(max_digits=18, decimal_places=2).to_representation
        self.share = serializers.DecimalField(max_digits=5, decimal_places=2).to_representation

    def render(self, rows: list[dict]) -> list[dict]:
        return [self.project(row) for row in rows]

    def project(self, row: dict) -> dict:
        date, optional = self.date, self.optional
        return {
            "url": f"{self.url_head}{row['code']}{self.url_tail}",
            "code": row["code"],
            "version": row["version"],
            "title_zh": row["title_zh"],
            "title_en": row["title_en"],
            "summary_zh": row["summary_zh"],
            "summary_en": row["summary_en"],
            "kind": row["kind"],
            "status": row["status"],
            "status_label": self.status_labels.get(row["status"], row["status"]),
            "lead_unit": {
                "id": row["lead_unit_id"],
                "name_zh": row["lead_unit__name_zh"],
                "name_en": row["lead_unit__name_en"],
                "kind": row["lead_unit__kind"],
                "country": row["lead_unit__country_id"],
            },
            "planned_start": optional(date, row["planned_start"]),
            "planned_end": optional(date, row["planned_end"]),
            "actual_start": optional(date, row["actual_start"]),
            "actual_end": optional(date, row["actual_end"]),
            "estimated_value": optional(self.money, row["estimated_value"]),
            "currency": row["currency"],
            "support_requested": row["support_requested"],
            "risk_level": row["risk_level"],
            **(
                {"risk_notes": row["risk_notes"], "internal_notes": row["internal_notes"]}
                if self.internal
                else {}
            ),
            "next_review_due": optional(date, row["next_review_due"]),
            "screening_round": row["screening_round"],
            "countries": [self.country(link) for link in row[list_key("countries")]],
            "sectors": [self.sector(link) for link in row[list_key("sectors")]],
            "participations": [
                self.participation(link) for link in row[list_key("participations")]
            ],
            "tags": split_tag_names(row["tag_names"]),
            "created_at": optional(self.datetime, row["created_at"]),
            "updated_at": optional(self.datetime, row["updated_at"]),
        }

    def country(self, link: dict) -> dict:
        return {
            "country": link["country_id"],
            "name_zh": link["country__name_zh"],
            "name_en": link["country__name_en"],
            "share": self.optional(self.share, link["share"]),
        }

    def sector(self, link: dict) -> dict:
        return {
            "sector": link["sector__code"],
            "parent": link["sector__parent__code"],
            "name_zh": link["sector__name_zh"],
            "name_en": link["sector__name_en"],
            "share": self.optional(self.share, link["share"]),
        }

    def participation(self, link: dict) -> dict:
        return {
            "partner": {
                "id": link["partner_id"],
                "name_zh": link["partner__name_zh"],
                "name_en": link["partner__name_en"],
                "kind": link["partner__kind"],
                "country": link["partner__country_id"],
            },
            "role": link["role"],
        }

    @staticmethod
    def optional(to_representation, value):
        # None stays None, as in `Serializer.to_representation`.
        return None if value is None else to_representation(value)
