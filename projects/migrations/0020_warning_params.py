"""Warnings keep the facts of their cause as params, so their detail is written in the
reader's language (`projects.risk.details`). The warnings already raised get params read
back from their English detail where it has the form the rules wrote; the others keep
their text as it is (shown as written). History rows stay as they were."""

import json
import re

from django.db import migrations, models

DATE = r"(\d{4}-\d{2}-\d{2})"
NUMBER = r"(-?\d+(?:\.\d+)?)"
LEVELS = {"low": 1, "medium": 2, "high": 3, "very_high": 4}
# The details as the rules wrote them before params (kind → pattern, params from groups).
PATTERNS = {
    "no_progress": (
        re.compile(rf"last update (?:{DATE}|-)"),
        lambda m: {"last_update": m.group(1)},
    ),
    "support_expiring": (re.compile(rf"valid until {DATE}"), lambda m: {"valid_until": m[1]}),
    "review_overdue": (re.compile(rf"due {DATE}"), lambda m: {"due": m[1]}),
    "end_passed": (re.compile(rf"planned end {DATE}"), lambda m: {"planned_end": m[1]}),
    "under_target": (
        re.compile(rf"actual {NUMBER} / target {NUMBER}"),
        lambda m: {"actual": m[1], "target": m[2]},
    ),
    "dispute_open": (re.compile(rf"open since {DATE}"), lambda m: {"opened_on": m[1]}),
}
COUNTRY_RISK = re.compile(r"([A-Z]{2}) ([a-z]+) (low|medium|high|very_high)")
BATCH = 2000


def params_of(kind: str, detail: str, countries: dict) -> dict | None:
    """The params of an old detail, or None when it is not one the rules wrote."""
    if kind == "country_risk":
        match = COUNTRY_RISK.fullmatch(detail)
        if not match or match[1] not in countries:
            return None
        name_zh, name_en = countries[match[1]]
        return {
            "country": match[1],
            "country_zh": name_zh,
            "country_en": name_en,
            "category": match[2],
            "level": LEVELS[match[3]],
        }
    if kind not in PATTERNS:
        return None
    pattern, build = PATTERNS[kind]
    match = pattern.fullmatch(detail)
    return build(match) if match else None


def fill_params(apps, schema_editor):
    Warning = apps.get_model("projects", "Warning")
    Country = apps.get_model("registry", "Country")
    countries = {
        iso2: (name_zh, name_en)
        for iso2, name_zh, name_en in Country.objects.values_list("iso2", "name_zh", "name_en")
    }
    last = 0
    while True:
        rows = list(
            Warning.objects.filter(pk__gt=last, params__isnull=True)
            .order_by("pk")
            .values_list("pk", "kind", "detail")[:BATCH]
        )
        if not rows:
            return
        last = rows[-1][0]
        # One UPDATE per distinct params in the batch (many warnings share a date).
        by_params: dict[str, list[int]] = {}
        for pk, kind, detail in rows:
            params = params_of(kind, detail, countries)
            if params is not None:
                by_params.setdefault(json.dumps(params, sort_keys=True), []).append(pk)
        for params, ids in by_params.items():
            Warning.objects.filter(pk__in=ids).update(params=json.loads(params))


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0019_review_conflict_declaration"),
        ("registry", "0007_table_versions"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalwarning",
            name="params",
            field=models.JSONField(
                blank=True, editable=False, null=True, verbose_name="parameters"
            ),
        ),
        migrations.AddField(
            model_name="warning",
            name="params",
            field=models.JSONField(
                blank=True, editable=False, null=True, verbose_name="parameters"
            ),
        ),
        migrations.RunPython(fill_params, migrations.RunPython.noop, elidable=True),
    ]
