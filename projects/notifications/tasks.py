from django.tasks import task

from projects.notifications import services


@task
def email_notification(*, notification_id: int) -> None:
    services.email(notification_id=notification_id)
