"""Celery tasks of alerting: thin, they carry ids and call `notify` and `engine`."""

from __future__ import annotations

from celery import Task, shared_task
from django.conf import settings

from collectors.alerts import engine
from collectors.alerts import metrics as metric_rules
from collectors.alerts.models import AttemptStatus, NotificationReason
from collectors.alerts.notify import deliver


def retry_delay(retries: int) -> int:
    """Seconds before the next try: the base, doubling, at most 64 times the base."""
    base = settings.NOTIFY_RETRY_BACKOFF_SECONDS
    return int(base * 2 ** min(retries, 6))


@shared_task(
    bind=True,
    name="collectors.send_notification",
    ignore_result=True,
    # max_retries is read per call below (settings may differ between processes and tests).
    max_retries=None,
    soft_time_limit=120,
)
def send_notification(self: Task, alert_id: int | None, channel_id: int, reason: str) -> str:
    attempt = deliver(alert_id, channel_id, reason, attempt=self.request.retries + 1)
    if attempt is None:
        return "skipped"
    failed = attempt.status == AttemptStatus.FAILED
    if failed and self.request.retries < settings.NOTIFY_MAX_RETRIES:
        raise self.retry(countdown=retry_delay(self.request.retries))
    return str(attempt.status)


@shared_task(name="collectors.alert_reminders", ignore_result=True)
def alert_reminders() -> int:
    """Reminders, the end of silences and the end of quiet hours."""
    return engine.send_reminders() + engine.release_deferred()


@shared_task(name="collectors.evaluate_metric_alerts", ignore_result=True, soft_time_limit=50)
def evaluate_metric_alerts() -> int:
    """Metric rules against the latest stored samples; returns how many alerts changed."""
    return metric_rules.evaluate_metric_rules().changed


def enqueue_notification(alert_id: int | None, channel_id: int, reason: str) -> None:
    """On the default queue, read when sending: notifications are no site's work."""
    send_notification.apply_async(
        args=(alert_id, channel_id, reason), queue=settings.CELERY_TASK_DEFAULT_QUEUE
    )


def send_test(channel_id: int) -> None:
    enqueue_notification(None, channel_id, NotificationReason.TEST)
