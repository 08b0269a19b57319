"""Carry the correlation id from whoever publishes a Celery task into the worker running it."""

from __future__ import annotations

from typing import Any

from celery.signals import before_task_publish, task_postrun, task_prerun

from infrastructor.logs import get_correlation_id, new_correlation_id, set_correlation_id

# Not "correlation_id": Celery uses that header name for the task id.
_HEADER = "infra_correlation_id"


@before_task_publish.connect
def _attach_correlation_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    if headers is not None and not headers.get(_HEADER):
        headers[_HEADER] = get_correlation_id() or new_correlation_id()


@task_prerun.connect
def _restore_correlation_id(task: Any = None, **_: Any) -> None:
    cid = getattr(task.request, _HEADER, None) if task is not None else None
    if not cid and task is not None:
        cid = (getattr(task.request, "headers", None) or {}).get(_HEADER)
    set_correlation_id(cid or new_correlation_id())


@task_postrun.connect
def _clear_correlation_id(**_: Any) -> None:
    set_correlation_id("")
