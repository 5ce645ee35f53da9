"""Loads the reference data (countries, country groups, sectors) idempotently.

Country codes and UN M49 regions come from `fixtures/reference/countries_m49.csv`; names
in Chinese and English come from CLDR through Babel, with the names Chinese official
usage gives to Taiwan, Hong Kong and Macao.
"""

import csv
from dataclasses import dataclass, field
from pathlib import Path

from babel import Locale
from django.conf import settings
from django.db import transaction

from registry.models import Country, CountryGroup, Sector

REFERENCE_DIR = Path(settings.BASE_DIR) / "fixtures" / "reference"

# Official Chinese usage, which CLDR does not follow for these three.
NAME_OVERRIDES = {
    "TW": ("中国台湾", "Taiwan, China"),
    "HK": ("中国香港", "Hong Kong, China"),
    "MO": ("中国澳门", "Macao, China"),
}


@dataclass
class LoadReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    def count(self, model: str, created: bool, changed: bool) -> None:
        if created:
            self.created[model] = self.created.get(model, 0) + 1
        elif changed:
            self.updated[model] = self.updated.get(model, 0) + 1


def _read(name: str) -> list[dict[str, str]]:
    with (REFERENCE_DIR / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _upsert(model, lookup: dict, values: dict, report: LoadReport):
    instance = model.objects.filter(**lookup).first()
    if instance is None:
        instance = model.objects.create(**lookup, **values)
        report.count(model.__name__, created=True, changed=False)
        return instance
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    if changed:
        for name in changed:
            setattr(instance, name, values[name])
        instance.save(update_fields=changed)
        report.count(model.__name__, created=False, changed=True)
    return instance


def reference_codes() -> dict[str, list[str]]:
    """The codes `load_reference` loads, by kind: what the API accepts where a request
    names a country, country group, sector or currency (the OpenAPI schema lists them)."""
    return {
        "country": sorted(row["alpha2"] for row in _read("countries_m49.csv")),
        "country_group": sorted(row["code"] for row in _read("country_groups.csv")),
        "sector": sorted(row["code"] for row in _read("sectors.csv")),
        "currency": sorted(row["code"] for row in _read("currencies.csv")),
    }


def country_names(alpha2: str) -> tuple[str, str]:
    if alpha2 in NAME_OVERRIDES:
        return NAME_OVERRIDES[alpha2]
    zh = Locale.parse("zh_Hans_CN").territories.get(alpha2)
    en = Locale.parse("en").territories.get(alpha2)
    return zh, en


def region_names(m49_code: str) -> tuple[str, str]:
    return (
        Locale.parse("zh_Hans_CN").territories.get(m49_code, ""),
        Locale.parse("en").territories.get(m49_code, ""),
    )


@transaction.atomic
def load_reference() -> LoadReport:
    report = LoadReport()
    by_subregion: dict[str, list[Country]] = {}
    for row in _read("countries_m49.csv"):
        name_zh, name_en = country_names(row["alpha2"])
        country = _upsert(
            Country,
            {"iso2": row["alpha2"]},
            {
                "iso3": row["alpha3"],
                "numeric": row["numeric"],
                "name_zh": name_zh or row["name"],
                "name_en": name_en or row["name"],
                "region": row["region"],
                "region_code": row["region_code"],
                "subregion": row["sub_region"],
                "subregion_code": row["sub_region_code"],
            },
            report,
        )
        by_subregion.setdefault(row["sub_region_code"], []).append(country)

    members_of_bloc: dict[str, list[str]] = {}
    for row in _read("groupings.csv"):
        members_of_bloc.setdefault(row["group"].lower(), []).append(row["alpha2"])

    for row in _read("country_groups.csv"):
        name_zh, name_en = row["name_zh"], row["name_en"]
        if row["kind"] == CountryGroup.Kind.M49:
            name_zh, name_en = region_names(row["m49_subregion_code"])
        group = _upsert(
            CountryGroup,
            {"code": row["code"]},
            {
                "kind": row["kind"],
                "name_zh": name_zh,
                "name_en": name_en,
                "description": row["description"],
            },
            report,
        )
        if row["kind"] == CountryGroup.Kind.M49:
            wanted = {c.iso2 for c in by_subregion.get(row["m49_subregion_code"], [])}
        else:
            wanted = set(members_of_bloc.get(row["code"], []))
        current = set(group.members.values_list("iso2", flat=True))
        if wanted != current:
            group.members.set(sorted(wanted))
            report.count("CountryGroup members", created=False, changed=True)

    sectors = _read("sectors.csv")
    codes = {}
    for row in sorted(sectors, key=lambda r: bool(r["parent"])):
        codes[row["code"]] = _upsert(
            Sector,
            {"code": row["code"]},
            {
                "parent": codes.get(row["parent"]) if row["parent"] else None,
                "name_zh": row["name_zh"],
                "name_en": row["name_en"],
                "people_to_people": row["people_to_people"] == "1",
                "dac_code": row["dac_code"],
                "sort_order": int(row["sort_order"]),
            },
            report,
        )
    return report
