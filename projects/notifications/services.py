"""Who is told what. Recipients are found through `projects.access` and the role groups;
each notice is written in the recipient's language and emailed by a background task
after the causing transaction commits."""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from partners.models import Membership
from projects import access
from projects.models import Project, Status, StatusChange
from projects.notifications.models import Kind, Notification
from projects.risk.models import Warning
from registry.preferences import muted, user_language
from registry.roles import MANAGER, OFFICER, REVIEWER

logger = logging.getLogger(__name__)


def _users_in(role):
    return get_user_model().objects.filter(is_active=True, groups__name=role).distinct()


def project_officers(project: Project):
    """Officers of the project's lead unit: the people whose project it is."""
    members = Membership.objects.filter(partner_id=project.lead_unit_id).values("user_id")
    return _users_in(OFFICER).filter(pk__in=members)


def _link(project: Project | None) -> str:
    if project is None:
        return f"{settings.REGISTRY_BASE_URL}/admin/"
    return f"{settings.REGISTRY_BASE_URL}/admin/projects/project/{project.pk}/change/"


def notify(*, users, kind: str, project: Project | None, write) -> list[Notification]:
    """Create a notice for each user who has not turned `kind` off; `write()` returns
    (subject, body) and is called in each recipient's language."""
    created = []
    with transaction.atomic():
        for user in users:
            if kind in muted(user):
                continue
            with translation.override(user_language(user)):
                subject, body = write()
                body = f"{body}\n\n{_link(project)}"
            created.append(
                Notification.objects.create(
                    recipient=user, kind=kind, project=project, subject=subject[:200], body=body
                )
            )
        for notification in created:
            transaction.on_commit(lambda pk=notification.pk: _enqueue_email(pk))
    return created


def _enqueue_email(notification_id: int) -> None:
    from projects.notifications.tasks import email_notification

    email_notification.enqueue(notification_id=notification_id)


def email(*, notification_id: int) -> None:
    notification = (
        Notification.objects.select_related("recipient")
        .filter(pk=notification_id, emailed_at__isnull=True)
        .first()
    )
    if notification is None or not notification.recipient.email:
        return
    send_mail(notification.subject, notification.body, None, [notification.recipient.email])
    Notification.objects.filter(pk=notification.pk).update(emailed_at=timezone.now())


def _title(project: Project) -> str:
    language = translation.get_language() or ""
    if language.startswith("zh"):
        return project.title_zh or project.title_en
    return project.title_en or project.title_zh


def on_transition(*, project: Project, status_change: StatusChange) -> None:
    def write():
        subject = _("%(code)s is now %(status)s") % {
            "code": project.code,
            "status": Status(status_change.to_status).label,
        }
        body = _("%(code)s %(title)s moved from %(from)s to %(to)s.") % {
            "code": project.code,
            "title": _title(project),
            "from": Status(status_change.from_status).label if status_change.from_status else "—",
            "to": Status(status_change.to_status).label,
        }
        if status_change.reason:
            body += "\n" + _("Reason: %(reason)s") % {"reason": status_change.reason}
        return subject, body

    actor_id = status_change.actor_id
    officers = [u for u in project_officers(project) if u.pk != actor_id]
    notify(users=officers, kind=Kind.STATUS_CHANGED, project=project, write=write)
    if status_change.to_status == Status.SCREENING:
        reviewers = [
            user
            for user in _users_in(REVIEWER)
            if user.pk != actor_id and access.can_review(user, project)
        ]

        def write_screening():
            return (
                _("To review: %(code)s") % {"code": project.code},
                _("%(code)s %(title)s entered screening and waits for your review.")
                % {"code": project.code, "title": _title(project)},
            )

        notify(users=reviewers, kind=Kind.SCREENING, project=project, write=write_screening)


def on_support_decided(*, project: Project, decision, actor) -> None:
    def write():
        return (
            _("Support decided for %(code)s") % {"code": project.code},
            _("%(kind)s was decided for %(code)s %(title)s on %(date)s.")
            % {
                "kind": decision.get_kind_display(),
                "code": project.code,
                "title": _title(project),
                "date": decision.decided_on.isoformat(),
            },
        )

    officers = [u for u in project_officers(project) if u.pk != getattr(actor, "pk", None)]
    notify(users=officers, kind=Kind.SUPPORT_DECIDED, project=project, write=write)


WARNING_BATCH = 1000


def _officers_by_unit(unit_ids=None) -> dict[int, list]:
    """Active officers of each of the lead units (of every unit when None), in two
    queries."""
    memberships = Membership.objects.filter(user__in=_users_in(OFFICER))
    if unit_ids is not None:
        memberships = memberships.filter(partner_id__in=unit_ids)
    by_unit: dict[int, list[int]] = {}
    for unit_id, user_id in memberships.values_list("partner_id", "user_id"):
        by_unit.setdefault(unit_id, []).append(user_id)
    users = get_user_model().objects.in_bulk({pk for ids in by_unit.values() for pk in ids})
    return {unit: [users[pk] for pk in sorted(ids)] for unit, ids in by_unit.items()}


def on_warnings_raised(*, warning_ids) -> int:
    """The lead unit's officers (accounts of the officer role only: partners never hear
    of warnings): one notice per project listing the warnings newly raised on it.
    The officers of every unit are read once (accounts, not projects: a few thousand at
    most); then, a batch at a time, only the warnings of projects whose lead unit has an
    officer, so a first daily run raising many warnings on projects nobody follows costs
    one query per batch (reading every warning and project row of 100,000 warnings to
    find nobody to tell took ~55 s)."""
    officers = _officers_by_unit()
    if not officers:
        return 0
    sent = 0
    warning_ids = sorted(warning_ids)
    for offset in range(0, len(warning_ids), WARNING_BATCH):
        by_project: dict[int, list[Warning]] = {}
        for warning in Warning.objects.filter(
            pk__in=warning_ids[offset : offset + WARNING_BATCH],
            resolved_at__isnull=True,
            dismissed_at__isnull=True,
            project__lead_unit_id__in=officers,
        ).order_by("project_id", "-severity", "kind", "pk"):
            by_project.setdefault(warning.project_id, []).append(warning)
        if not by_project:
            continue
        projects = Project.objects.filter(pk__in=by_project).only(
            "pk", "code", "title_zh", "title_en", "lead_unit_id"
        )
        for project in projects.order_by("pk"):
            sent += _notify_warnings(
                project, by_project[project.pk], officers[project.lead_unit_id]
            )
    return sent


def _notify_warnings(project: Project, warnings: list[Warning], officers) -> int:
    def write():
        subject = _("Warning on %(code)s: %(kind)s") % {
            "code": project.code,
            "kind": warnings[0].get_kind_display(),
        }
        lines = [
            _("New warnings on %(code)s %(title)s:")
            % {"code": project.code, "title": _title(project)}
        ]
        for warning in warnings:
            line = f"  [{warning.get_severity_display()}] {warning.get_kind_display()}"
            detail = warning.description
            lines.append(f"{line}: {detail}" if detail else line)
        return subject, "\n".join(lines)

    return len(notify(users=officers, kind=Kind.WARNING_RAISED, project=project, write=write))


DIGEST_CRITICAL_LISTED = 20


def _open_warnings_by_severity() -> tuple[dict[int, int], list[Warning]]:
    """Counts of open warnings per severity, and the most recent critical ones."""
    open_warnings = Warning.objects.filter(resolved_at__isnull=True, dismissed_at__isnull=True)
    counts = dict(
        open_warnings.order_by()
        .values_list("severity")
        .annotate(count=Count("pk"))
        .values_list("severity", "count")
    )
    critical = list(
        open_warnings.filter(severity=Warning.Severity.CRITICAL)
        .select_related("project")
        .order_by("-first_seen", "-pk")[:DIGEST_CRITICAL_LISTED]
    )
    return counts, critical


def daily_digest(*, now=None) -> int:
    """Managers: projects submitted in the last 24 hours, overdue periodic reviews and
    the open warnings by severity. Nothing is sent on a day with nothing to say."""
    now = now or timezone.now()
    submitted = list(
        Project.objects.filter(
            status_changes__to_status=Status.SUBMITTED,
            status_changes__created_at__gte=now - timedelta(days=1),
        )
        .distinct()
        .order_by("code")
    )
    overdue = list(Project.objects.review_overdue(timezone.localdate(now)).order_by("code"))
    warning_counts, critical = _open_warnings_by_severity()
    if not submitted and not overdue and not warning_counts:
        return 0

    def write():
        lines = [_("New submissions (last 24 hours): %(count)d") % {"count": len(submitted)}]
        lines += [f"  {p.code} {_title(p)}" for p in submitted]
        lines.append(_("Overdue periodic reviews: %(count)d") % {"count": len(overdue)})
        lines += [f"  {p.code} {_title(p)}" for p in overdue]
        lines.append(_("Open warnings: %(count)d") % {"count": sum(warning_counts.values())})
        for severity in sorted(Warning.Severity, reverse=True):
            lines.append(f"  {severity.label}: {warning_counts.get(severity.value, 0)}")
        if critical:
            lines.append(_("Latest critical warnings:"))
            lines += [
                f"  {w.project.code} {w.get_kind_display()}"
                + (f": {w.description}" if w.description else "")
                for w in critical
            ]
        return _("Daily digest of the project pool"), "\n".join(lines)

    return len(notify(users=_users_in(MANAGER), kind=Kind.DAILY_DIGEST, project=None, write=write))


@transaction.atomic
def mark_read(*, user, ids=None) -> int:
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())
