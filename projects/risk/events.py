"""The events that change a warning's cause recompute the warnings they touch, after
their transaction commits, through the background task. The rules stay in
`projects.risk.warnings`; these receivers only say *which* warnings to recompute."""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from projects import workflow
from projects.models import ProgressUpdate, Project, SupportDecision
from projects.results.models import Period
from projects.risk.models import CountryRisk, ProjectRisk, Warning
from projects.risk.tasks import compute_warnings_task
from projects.services import TRANSITION_REASON_PREFIX


def _enqueue(project_ids, kinds) -> None:
    compute_warnings_task.enqueue(
        project_ids=None if project_ids is None else sorted(set(project_ids)),
        kinds=None if kinds is None else sorted(kinds),
    )


def recompute(*, project_ids=None, kinds=None) -> None:
    transaction.on_commit(lambda: _enqueue(project_ids, kinds))


@receiver(workflow.transition_committed, dispatch_uid="risk_after_transition")
def _after_transition(sender, project, **kwargs):
    # Sent after the transition's commit already: enqueue at once.
    _enqueue([project.pk], None)


@receiver(post_save, sender=Project, dispatch_uid="risk_project_saved")
def _after_project_save(sender, instance, created, raw=False, **kwargs):
    # Dates (planned end, next review) are edited on the project itself; a transition's
    # save is left to `transition_committed` above.
    reason = getattr(instance, "_change_reason", "") or ""
    if raw or created or str(reason).startswith(TRANSITION_REASON_PREFIX):
        return
    recompute(project_ids=[instance.pk])


@receiver(post_save, sender=ProgressUpdate, dispatch_uid="risk_progress_saved")
@receiver(post_save, sender=SupportDecision, dispatch_uid="risk_support_saved")
@receiver(post_save, sender=ProjectRisk, dispatch_uid="risk_project_risk_saved")
def _after_project_child_save(sender, instance, raw=False, **kwargs):
    if not raw:
        recompute(project_ids=[instance.project_id])


@receiver(post_save, sender=Period, dispatch_uid="risk_period_saved")
def _after_period_save(sender, instance, raw=False, **kwargs):
    if not raw:
        project_id = (
            Period.objects.filter(pk=instance.pk)
            .values_list("indicator__result__project_id", flat=True)
            .first()
        )
        if project_id:
            recompute(project_ids=[project_id], kinds=[Warning.Kind.UNDER_TARGET])


@receiver(post_save, sender=CountryRisk, dispatch_uid="risk_country_saved")
def _after_country_risk(sender, instance, raw=False, **kwargs):
    if not raw:
        recompute(kinds=[Warning.Kind.COUNTRY_RISK])
