"""System checks that catch a dangerous configuration before it bites."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Warning, register


@register()
def secret_key_is_not_the_default(**_: Any) -> list[Warning]:
    placeholder = "change-me" in settings.SECRET_KEY or len(settings.SECRET_KEY) < 32
    default = settings.SECRET_KEY == settings.INSECURE_DEFAULT_SECRET_KEY
    if (default or placeholder) and not settings.DEBUG:
        return [
            Warning(
                "SECRET_KEY is the built-in development key, a placeholder or too short.",
                hint="Set SECRET_KEY in .env (./infra start writes a random one).",
                id="infrastructor.W001",
            )
        ]
    return []
