"""Cleaning of text written before the control-character validator existed
(`registry.validators.validate_no_control_characters`), for data migrations."""

from functools import reduce
from operator import or_

from django.db.models import Q

from registry.validators import FORBIDDEN_CHARACTERS

# A database regex finds the few rows to clean (PostgreSQL's and SQLite's, through
# Django's REGEXP, both read these escapes). PostgreSQL cannot hold NUL, so it is not asked.
DATABASE_PATTERN = {
    "postgresql": r"[\x01-\x08\x0b\x0c\x0e-\x1f]",
    "sqlite": r"[\x00-\x08\x0b\x0c\x0e-\x1f]",
}


def clean_text(value: str) -> str:
    return FORBIDDEN_CHARACTERS.sub("", value)


def clean_rows(model, fields: list[str], vendor: str, **also_update) -> int:
    """Remove the forbidden characters from `fields` of every row holding one; each
    cleaned row also gets `also_update` (e.g. a version bump). Returns the row count."""
    pattern = DATABASE_PATTERN.get(vendor, DATABASE_PATTERN["postgresql"])
    dirty = model._default_manager.filter(
        reduce(or_, (Q(**{f"{field}__regex": pattern}) for field in fields))
    )
    count = 0
    for row in dirty.iterator():
        changes = {field: clean_text(getattr(row, field) or "") for field in fields}
        changes.update({name: value(row) for name, value in also_update.items()})
        model._default_manager.filter(pk=row.pk).update(**changes)
        count += 1
    return count
