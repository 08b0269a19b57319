"""Schemathesis against our own OpenAPI schema, in process (WSGI), with a valid read token.

For every read operation it generates requests from the schema (ids, filters, time ranges, page
sizes, junk in every query parameter) and asserts: never a 5xx, and every answer matches the
schema (status codes, content type, body). The rows it reads are real (a device with metrics, a
drive, a pool), so detail and history endpoints answer 200 as well as 404.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from devices.models import Device, Drive, SystemSample
from infrastructor.models import ApiToken, Scope

pytestmark = [pytest.mark.django_db, pytest.mark.integration]

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
APP = get_wsgi_application()
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    """The WSGI handler closes "old" connections around each request, which would close the
    test's transaction; Django's own test client switches that off the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def read_token(django_user_model: Any) -> str:
    user = django_user_model.objects.create_user("schemathesis", password="x")
    _, clear = ApiToken.issue(user=user, name="schemathesis", scope=Scope.READ)
    now = timezone.now()
    device = Device.objects.create(name="nas", address="127.0.0.1")
    SystemSample.objects.create(device=device, collected_at=now, cpu_pct=12.5, load_1=0.5)
    Drive.objects.create(device=device, identity="sn:X1", serial="X1", slot="/dev/sda",
                         first_seen_at=now, last_seen_at=now, temperature_c=31)  # fmt: skip
    return clear


@schema.include(method="GET").parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_reads_never_fail_and_always_match_the_schema(case: Any, read_token: str) -> None:
    case.call_and_validate(
        app=APP,
        headers={"Authorization": f"Bearer {read_token}"},
        checks=CHECKS,
    )
