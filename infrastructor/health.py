"""`GET /health`: is every part of the platform working? Open to all (no secrets in it).

`GET /api/health/history/`: what the history holds and costs (`manage.py history_stats`'s
figures). Behind authentication like the rest of the API: table sizes say how large a fleet is,
and counting every time-series table costs far more than /health's probes may.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from devices.history.stats import history_stats
from infrastructor.celery import app as celery_app

WORKER_PING_TIMEOUT_S = 1.5


def check_database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as e:  # any driver error means "down" here
        return {"ok": False, "error": f"{type(e).__name__}: {e}"}
    return {"ok": True}


def check_redis() -> dict[str, Any]:
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1.0).ping()
    except redis.RedisError as e:
        return {"ok": False, "error": f"{type(e).__name__}: {e}"}
    return {"ok": True}


def check_workers() -> dict[str, Any]:
    try:
        # limit=1: answer as soon as one worker replies instead of waiting out the timeout.
        replies = celery_app.control.ping(timeout=WORKER_PING_TIMEOUT_S, limit=1) or []
    except Exception as e:  # broker errors come in many types
        return {"ok": False, "workers": [], "error": f"{type(e).__name__}: {e}"}
    names = sorted(name for reply in replies for name in reply)
    return {"ok": bool(names), "workers": names}


def check_beat(now: dt.datetime) -> dict[str, Any]:
    """Beat is alive when its collection tick ran within a few of its intervals."""
    raw = cache.get("beat:last_tick")
    last = parse_datetime(raw) if isinstance(raw, str) else None
    limit = dt.timedelta(seconds=max(3 * settings.SYSTEM_METRICS_INTERVAL, 120))
    ok = last is not None and now - last <= limit
    return {"ok": ok, "last_tick": last.isoformat() if last else None}


def check_devices(now: dt.datetime) -> dict[str, Any]:
    from devices.models import Device

    monitored = Device.objects.monitored().count()
    stale = Device.objects.stale(now).count()
    return {"ok": stale == 0, "monitored": monitored, "stale": stale}


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    now = timezone.now()
    checks: dict[str, dict[str, Any]] = {"database": check_database(), "redis": check_redis()}
    checks["workers"] = check_workers() if checks["redis"]["ok"] else {"ok": False, "workers": []}
    checks["beat"] = check_beat(now) if checks["redis"]["ok"] else {"ok": False}
    if checks["database"]["ok"]:
        checks["devices"] = check_devices(now)
    ok = all(c["ok"] for c in checks.values())
    return JsonResponse(
        {"status": "ok" if ok else "degraded", "time": now.isoformat(), "checks": checks},
        status=200 if ok else 503,
    )


class HistoryHealthView(APIView):
    """Rows, bytes, bytes per stored value, oldest and newest row of every time-series table
    and rollup tier (the figures of `manage.py history_stats`), with their totals."""

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        tables = [s.as_json() for s in history_stats()]
        totals = {"rows": sum(t["rows"] for t in tables), "bytes": sum(t["bytes"] for t in tables)}
        return Response({"time": timezone.now().isoformat(), "tables": tables, "totals": totals})
