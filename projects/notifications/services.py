"""Who is told what. Recipients are found through `projects.access` and the role groups;
each notice is written in the recipient's language and emailed by a background task
after the causing transaction commits."""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from partners.models import Membership
from projects import access
from projects.models import Project, Status, StatusChange
from projects.notifications.models import Kind, Notification
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


def daily_digest(*, now=None) -> int:
    """Managers: projects submitted in the last 24 hours and overdue periodic reviews.
    Nothing is sent on a day with nothing to say."""
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
    if not submitted and not overdue:
        return 0

    def write():
        lines = [_("New submissions (last 24 hours): %(count)d") % {"count": len(submitted)}]
        lines += [f"  {p.code} {_title(p)}" for p in submitted]
        lines.append(_("Overdue periodic reviews: %(count)d") % {"count": len(overdue)})
        lines += [f"  {p.code} {_title(p)}" for p in overdue]
        return _("Daily digest of the project pool"), "\n".join(lines)

    return len(notify(users=_users_in(MANAGER), kind=Kind.DAILY_DIGEST, project=None, write=write))


@transaction.atomic
def mark_read(*, user, ids=None) -> int:
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())
