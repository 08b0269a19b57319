"""The OpenAPI schema is generated without a single warning and validates against the OpenAPI
specification: what front ends and schemathesis read is exactly what the views do."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.core.management import call_command


def test_the_schema_has_no_warnings_and_is_valid_openapi(tmp_path: Path) -> None:
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    assert schema["components"]["securitySchemes"]["ApiToken"]["scheme"] == "bearer"
    assert "/api/drives/{id}/history/" in schema["paths"]
