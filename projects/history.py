"""One project's complete history: its workflow transitions (StatusChange) and every
recorded change to the project and its countries, sectors, participations, reviews,
support decisions and progress updates (django-simple-history), merged in time order.

The admin shows it on the project page and the API serves it; both call
`project_history`, which runs a fixed number of queries however long the history is.
"""

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import models
from django.utils.translation import gettext

from partners.models import Partner
from projects import access
from projects.models import (
    Participation,
    ProgressUpdate,
    Project,
    ProjectCountry,
    ProjectSector,
    Review,
    Status,
    StatusChange,
    SupportDecision,
)
from projects.services import TRANSITION_REASON_PREFIX
from registry.models import Country, Sector

CHILD_MODELS = (
    ProjectCountry,
    ProjectSector,
    Participation,
    Review,
    SupportDecision,
    ProgressUpdate,
)
# Technical fields that change with every write and say nothing to a reader.
SKIPPED_FIELDS = {"id", "project", "version", "updated_at", "created_at"}
# What a partner user does not see in the history of a project it takes part in.
PARTNER_HIDDEN_MODELS = {Review, SupportDecision}
PARTNER_HIDDEN_FIELDS = {"internal_notes", "risk_notes", "risk_level"}

HISTORY_ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


def _tracked_fields(model) -> list[models.Field]:
    return [
        field
        for field in model.history.model.tracked_fields
        if field.name not in SKIPPED_FIELDS and not field.many_to_many
    ]


def _plain(value):
    """A JSON-friendly form of a stored value."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return value


class _Labels:
    """Names for the ids stored in history rows, fetched in one query per related model."""

    def __init__(self):
        self.wanted: dict[type, set] = {}
        self.names: dict[type, dict] = {}

    def want(self, model, pk) -> None:
        if pk is not None:
            self.wanted.setdefault(model, set()).add(pk)

    def load(self) -> None:
        for model, ids in self.wanted.items():
            self.names[model] = {obj.pk: obj for obj in model.objects.filter(pk__in=ids)}

    def name(self, model, pk) -> str | None:
        if pk is None:
            return None
        obj = self.names.get(model, {}).get(pk)
        if obj is None:
            return str(pk)
        if model is get_user_model():
            return obj.get_username()
        return str(obj)


def _display(field: models.Field, value, labels: _Labels):
    if value is None or value == "":
        return value
    if field.is_relation:
        return labels.name(field.related_model, value)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return _plain(value)


def _changes(fields, old, new, labels: _Labels) -> list[dict]:
    changes = []
    for field in fields:
        before = getattr(old, field.attname) if old is not None else None
        after = getattr(new, field.attname) if new is not None else None
        if before == after or (before in (None, "") and after in (None, "")):
            continue
        changes.append(
            {
                "field": field.name,
                "label": str(field.verbose_name),
                "old": _plain(before),
                "new": _plain(after),
                "old_display": _display(field, before, labels),
                "new_display": _display(field, after, labels),
            }
        )
    return changes


def _object_label(model, record, labels: _Labels) -> str:
    if model is Project:
        return f"{record.code} {record.title_zh or record.title_en}".strip()
    if model is ProjectCountry:
        return labels.name(Country, record.country_id)
    if model is ProjectSector:
        return labels.name(Sector, record.sector_id)
    if model is Participation:
        role = dict(Participation.Role.choices).get(record.role, record.role)
        return f"{labels.name(Partner, record.partner_id)} ({role})"
    if model is Review:
        return gettext("%(reviewer)s, round %(round)s") % {
            "reviewer": labels.name(get_user_model(), record.reviewer_id),
            "round": record.round,
        }
    if model is SupportDecision:
        kind = dict(SupportDecision.Kind.choices).get(record.kind, record.kind)
        return f"{kind} ({_plain(record.decided_on)})"
    if model is ProgressUpdate:
        return _plain(record.reported_on)
    return str(record.pk)


def _want_labels(model, records, labels: _Labels) -> None:
    relations = [f for f in _tracked_fields(model) if f.is_relation]
    for record in records:
        labels.want(get_user_model(), record.history_user_id)
        for field in relations:
            labels.want(field.related_model, getattr(record, field.attname))


def project_history(project: Project, *, partner_view: bool = False, viewer=None) -> list[dict]:
    """Every transition and recorded change of a project, oldest first.

    Each entry: at, actor (username or None), kind ("transition" or "change"), model,
    model_label, object, action ("created"/"changed"/"deleted" or the workflow action),
    changes ([{field, label, old, new, old_display, new_display}]), from_status,
    to_status, reason. A transition carries the field changes made with it (status,
    screening round, next review due…), so each transition is exactly one entry.
    `partner_view` leaves out reviews, support decisions and internal fields. With a
    `viewer`, a review's entries show only if the viewer may read that review
    (`access.visible_reviews`): officers see none, and a reviewer sees no other score of
    the current round before recording their own, as on the decision panel.
    """
    labels = _Labels()
    transitions = list(
        StatusChange.objects.filter(project=project).select_related("actor").order_by("id")
    )
    project_records = list(
        Project.history.model.objects.filter(id=project.pk).order_by("history_date", "history_id")
    )
    tag_model = Project.history.model._meta.get_field("historicalproject_tags").related_model
    tags_by_record: dict[int, list[str]] = {}
    for history_id, name in tag_model.objects.filter(
        history__id=project.pk, tag__isnull=False
    ).values_list("history_id", "tag__name"):
        tags_by_record.setdefault(history_id, []).append(name)
    child_records = {}
    for model in CHILD_MODELS:
        if partner_view and model in PARTNER_HIDDEN_MODELS:
            continue
        records = model.history.model.objects.filter(project_id=project.pk)
        if model is Review and viewer is not None:
            if not access.can_view_reviews(viewer):
                continue
            readable = access.visible_reviews(viewer, Review.objects.filter(project=project))
            records = records.filter(id__in=readable.values("pk"))
        child_records[model] = list(records.order_by("history_date", "history_id"))
    for model, records in [(Project, project_records), *child_records.items()]:
        _want_labels(model, records, labels)
    labels.load()

    status_labels = dict(Status.choices)
    entries: list[tuple[tuple, dict]] = []
    by_transition: dict[int, dict] = {}
    for change in transitions:
        entry = {
            "at": change.created_at,
            "actor": change.actor.get_username() if change.actor else None,
            "kind": "transition",
            "model": "project",
            "model_label": str(Project._meta.verbose_name),
            "object": project.code,
            "action": change.action,
            "changes": [],
            "from_status": change.from_status or None,
            "to_status": change.to_status,
            "from_status_label": str(status_labels.get(change.from_status, "")) or None,
            "to_status_label": str(status_labels.get(change.to_status, change.to_status)),
            "reason": change.reason,
        }
        by_transition[change.pk] = entry
        entries.append(((change.created_at, 0, change.pk), entry))

    for model, records in [(Project, project_records), *child_records.items()]:
        fields = _tracked_fields(model)
        if partner_view:
            fields = [f for f in fields if f.name not in PARTNER_HIDDEN_FIELDS]
        previous: dict = {}
        for record in records:
            old = previous.get(record.id)
            previous[record.id] = record
            if record.history_type == "-":
                changes = _changes(fields, record, None, labels)
            else:
                changes = _changes(
                    fields, old if record.history_type == "~" else None, record, labels
                )
            if model is Project:
                old_tags = sorted(tags_by_record.get(old.history_id, [])) if old else []
                new_tags = sorted(tags_by_record.get(record.history_id, []))
                if old_tags != new_tags:
                    changes.append(
                        {
                            "field": "tags",
                            "label": str(Project._meta.get_field("tags").verbose_name),
                            "old": old_tags,
                            "new": new_tags,
                            "old_display": ", ".join(old_tags),
                            "new_display": ", ".join(new_tags),
                        }
                    )
                reason = record.history_change_reason or ""
                if reason.startswith(TRANSITION_REASON_PREFIX):
                    entry = by_transition.get(int(reason.removeprefix(TRANSITION_REASON_PREFIX)))
                    if entry is not None:
                        entry["changes"] = changes
                        continue
            if record.history_type == "~" and not changes:
                continue
            entry = {
                "at": record.history_date,
                "actor": labels.name(get_user_model(), record.history_user_id),
                "kind": "change",
                "model": model._meta.model_name,
                "model_label": str(model._meta.verbose_name),
                "object": _object_label(model, record, labels),
                "action": HISTORY_ACTIONS[record.history_type],
                "changes": changes,
                "from_status": None,
                "to_status": None,
                "from_status_label": None,
                "to_status_label": None,
                "reason": "",
            }
            entries.append(((record.history_date, 1, record.history_id), entry))
    entries.sort(key=lambda item: item[0])
    return [entry for _, entry in entries]


def appears_in_history(user) -> bool:
    """Whether `user` acted in the pool's history (a transition, a review, a support
    decision, a progress update, a project they entered, or any recorded change): such a
    user is deactivated, never deleted."""
    from django.apps import apps

    if StatusChange.objects.filter(actor=user).exists():
        return True
    for model, field in (
        (Review, "reviewer"),
        (SupportDecision, "decided_by"),
        (ProgressUpdate, "author"),
        (Project, "created_by"),
    ):
        if model.objects.filter(**{field: user}).exists():
            return True
    # Every model recorded by django-simple-history keeps the acting user.
    return any(
        model.objects.filter(history_user_id=user.pk).exists()
        for model in apps.get_models()
        if model.__name__.startswith("Historical")
        and any(f.name == "history_user" for f in model._meta.get_fields())
    )


# --- The partner projection ----------------------------------------------------------------

# The project fields whose changes a partner reads (README, "Partner history"): what the
# partner's own project response shows, but for the status (its transitions say it) and
# the office's own bookkeeping (risk, review schedule, screening round, who entered it).
PARTNER_PROJECT_FIELDS = (
    "title_zh",
    "title_en",
    "summary_zh",
    "summary_en",
    "kind",
    "lead_unit",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
    "estimated_value",
    "currency",
    "support_requested",
)
# The rows of a project a partner reads the changes of, with the fields it reads.
PARTNER_CHILD_FIELDS = {
    ProjectCountry: ("country", "share"),
    ProjectSector: ("sector", "share"),
    Participation: ("partner", "role"),
    ProgressUpdate: ("partner", "reported_on", "note"),
}


def office_name() -> str:
    """Who acted, as partners read it: the office, never a staff member's name."""
    from django.conf import settings

    return getattr(settings, "REGISTRY_OFFICE_NAME", "") or gettext("Foreign Affairs Office")


def partner_history(project: Project, *, viewer) -> list[dict]:
    """The history of `project` as a partner user (`viewer`) reads it, oldest first.

    Same entry shape as `project_history`, with: transitions (status from and to; the
    reason only where the deciding user made it visible to partners; no other field
    changes); changes of `PARTNER_PROJECT_FIELDS` and tags; countries, sectors,
    participations and progress updates. `old`/`new` are display names, never ids; an
    institution the viewer cannot see is named "another institution"; the actor is the
    office, or the institution a progress update was posted for. Reviews, support
    decisions, internal fields and usernames never appear."""
    from projects import access

    labels = _Labels()
    visible_partner_ids = set(
        access.visible_partners(viewer)
        .filter(pk__in=_partner_ids(project))
        .values_list("pk", flat=True)
    )
    office = office_name()
    entries: list[tuple[tuple, dict]] = []
    status_labels = dict(Status.choices)
    transition_ids = set()
    for change in StatusChange.objects.filter(project=project).order_by("id"):
        transition_ids.add(change.pk)
        entry = {
            "at": change.created_at,
            "actor": office,
            "kind": "transition",
            "model": "project",
            "model_label": str(Project._meta.verbose_name),
            "object": project.code,
            "action": change.action,
            "changes": [],
            "from_status": change.from_status or None,
            "to_status": change.to_status,
            "from_status_label": str(status_labels.get(change.from_status, "")) or None,
            "to_status_label": str(status_labels.get(change.to_status, change.to_status)),
            "reason": change.reason if change.reason_visible_to_partners else "",
        }
        entries.append(((change.created_at, 0, change.pk), entry))

    records = {
        Project: list(
            Project.history.model.objects.filter(id=project.pk).order_by(
                "history_date", "history_id"
            )
        )
    }
    for model in PARTNER_CHILD_FIELDS:
        records[model] = list(
            model.history.model.objects.filter(project_id=project.pk).order_by(
                "history_date", "history_id"
            )
        )
    tag_model = Project.history.model._meta.get_field("historicalproject_tags").related_model
    tags_by_record: dict[int, list[str]] = {}
    for history_id, name in tag_model.objects.filter(
        history__id=project.pk, tag__isnull=False
    ).values_list("history_id", "tag__name"):
        tags_by_record.setdefault(history_id, []).append(name)
    for model, rows in records.items():
        _want_labels(model, rows, labels)
    labels.load()

    def display(field, value):
        if value in (None, ""):
            return value
        if (
            field.is_relation
            and field.related_model is Partner
            and value not in visible_partner_ids
        ):
            return gettext("another institution")
        return _display(field, value, labels)

    def changes_of(model, names, old, new) -> list[dict]:
        changes = []
        for name in names:
            field = model._meta.get_field(name)
            before = getattr(old, field.attname) if old is not None else None
            after = getattr(new, field.attname) if new is not None else None
            if before == after or (before in (None, "") and after in (None, "")):
                continue
            changes.append(
                {
                    "field": name,
                    "label": str(field.verbose_name),
                    "old": display(field, before),
                    "new": display(field, after),
                    "old_display": display(field, before),
                    "new_display": display(field, after),
                }
            )
        return changes

    for model, rows in records.items():
        names = PARTNER_PROJECT_FIELDS if model is Project else PARTNER_CHILD_FIELDS[model]
        previous: dict = {}
        for record in rows:
            old = previous.get(record.id)
            previous[record.id] = record
            if record.history_type == "-":
                changes = changes_of(model, names, record, None)
            else:
                changes = changes_of(
                    model, names, old if record.history_type == "~" else None, record
                )
            if model is Project:
                old_tags = sorted(tags_by_record.get(old.history_id, [])) if old else []
                new_tags = sorted(tags_by_record.get(record.history_id, []))
                if old_tags != new_tags:
                    changes.append(
                        {
                            "field": "tags",
                            "label": str(Project._meta.get_field("tags").verbose_name),
                            "old": old_tags,
                            "new": new_tags,
                            "old_display": ", ".join(old_tags),
                            "new_display": ", ".join(new_tags),
                        }
                    )
            if not changes:
                # Nothing a partner reads changed (a transition's own record, an internal
                # note): no entry.
                continue
            if model is Participation:
                partner = display(model._meta.get_field("partner"), record.partner_id)
                role = dict(Participation.Role.choices).get(record.role, record.role)
                label = f"{partner} ({role})"
            elif model is ProgressUpdate:
                label = _plain(record.reported_on)
            else:
                label = project.code if model is Project else _object_label(model, record, labels)
            actor = office
            if model is ProgressUpdate and record.partner_id in visible_partner_ids:
                actor = labels.name(Partner, record.partner_id)
            entries.append(
                (
                    (record.history_date, 1, record.history_id),
                    {
                        "at": record.history_date,
                        "actor": actor,
                        "kind": "change",
                        "model": model._meta.model_name,
                        "model_label": str(model._meta.verbose_name),
                        "object": label,
                        "action": HISTORY_ACTIONS[record.history_type],
                        "changes": changes,
                        "from_status": None,
                        "to_status": None,
                        "from_status_label": None,
                        "to_status_label": None,
                        "reason": "",
                    },
                )
            )
    entries.sort(key=lambda item: item[0])
    return [entry for _, entry in entries]


def _partner_ids(project: Project) -> set[int]:
    """Every institution the project's history may name (past participations included)."""
    ids = set(
        Participation.history.model.objects.filter(project_id=project.pk).values_list(
            "partner_id", flat=True
        )
    )
    ids |= set(
        ProgressUpdate.history.model.objects.filter(
            project_id=project.pk, partner_id__isnull=False
        ).values_list("partner_id", flat=True)
    )
    ids |= set(
        Project.history.model.objects.filter(id=project.pk).values_list("lead_unit_id", flat=True)
    )
    return ids
