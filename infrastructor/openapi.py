"""OpenAPI schema post-processing: the error answers every operation can give.

drf-spectacular documents the success answers it can see from serializers; the errors come from
DRF itself (validation, auth, throttling, not found) and from our actions that reach a device
(502 when the command failed). They all carry a JSON object: `{"detail": "..."}` or
`{"<field>": ["..."]}` for validation errors.
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = {
    "description": 'An error: `{"detail": "..."}`, `{"<field>": ["..."]}` for bad input, or a '
    "list of messages.",
    "oneOf": [{"type": "object", "additionalProperties": True}, {"type": "array"}],
}
COMMON_ERRORS = {
    "400": "Bad input (the field is named)",
    "401": "No or invalid credentials",
    "403": "The token's scope does not allow this",
    "404": "Not found",
    "429": "Too many requests for this token",
}
DEVICE_ERROR = {"502": "The command on the device failed (the body names the audited operation)"}
_DEVICE_ACTIONS = ("logs/", "inspect/", "diff/", "test/", "collect/", "scrub/", "snapshot/",
                   "start/", "stop/", "restart/", "versions/")  # fmt: skip


def add_error_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            errors = dict(COMMON_ERRORS)
            if path.endswith(_DEVICE_ACTIONS) or method in ("put", "patch", "delete"):
                errors |= DEVICE_ERROR
            for code, description in errors.items():
                operation["responses"].setdefault(
                    code, {"description": description, "content": ref}
                )
    return result
