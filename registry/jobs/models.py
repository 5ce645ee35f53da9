"""A job: one piece of background work a user (or the scheduler) asked for, as the user
sees it: what it is, how far it got, how it ended, its file.

The task itself runs through Django's Tasks framework (`django.tasks`, the database
backend of django-tasks-db in production); the job row is the registry's own record of
it, because the task result knows nothing of rows done, of who may see it, of a cancel
request or of a file kept for 24 hours.

Live progress (rows done, heartbeat, cancel flag) is kept in the `jobs` cache, not in
this row: the work runs inside one transaction (an import is all or nothing), and on
SQLite a second writer would wait for that transaction to end.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Job(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=60)
    label = models.CharField(_("label"), max_length=300, blank=True)
    # None for the daily jobs the scheduler starts.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.QUEUED
    )
    # What the task needs besides its parameters (an uploaded file, a pickled query);
    # in the database so that a worker on another machine can read it. Emptied at the end.
    payload = models.BinaryField(_("payload"), blank=True, default=b"", editable=False)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    task_result_id = models.CharField(_("task result"), max_length=64, blank=True)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    rows_total = models.PositiveIntegerField(_("rows in all"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    error = models.TextField(_("error"), blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    file_expires_at = models.DateTimeField(_("file kept until"), null=True, blank=True)

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="job_owner_recent")]

    def __str__(self) -> str:
        return self.label or self.kind


class DailyRun(models.Model):
    """One row per daily job and day: the unique constraint is what makes the day's run
    happen once, however many schedulers or workers there are."""

    name = models.CharField(_("daily job"), max_length=200)
    day = models.DateField(_("day"))
    job = models.OneToOneField(Job, on_delete=models.PROTECT, related_name="daily_run")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("daily run")
        verbose_name_plural = _("daily runs")
        constraints = [models.UniqueConstraint(fields=["name", "day"], name="daily_run_once_a_day")]

    def __str__(self) -> str:
        return f"{self.name} {self.day}"
