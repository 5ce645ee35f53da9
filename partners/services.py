"""Writes to partner institutions. Institutions are deactivated, never deleted: projects,
history and memberships keep pointing at them."""

from collections.abc import Iterable

from django.db import transaction

from partners.models import Partner


@transaction.atomic
def partners_deactivate(*, actor, partners: Iterable[Partner]) -> int:
    """Mark institutions inactive; returns how many changed. Saved one by one so the
    history records each change with its actor."""
    changed = 0
    for partner in Partner.objects.select_for_update().filter(
        pk__in=[p.pk for p in partners], active=True
    ):
        partner.active = False
        partner._history_user = actor
        partner.save(update_fields=["active", "updated_at"])
        changed += 1
    return changed
