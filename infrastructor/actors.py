"""Who did it: the actor string written to audit rows and events."""

from __future__ import annotations

from rest_framework.request import Request

from infrastructor.models import ApiToken


def actor_for(request: Request) -> str:
    if isinstance(request.auth, ApiToken):
        return f"token:{request.auth.name} ({request.user.get_username()})"
    if request.user is not None and request.user.is_authenticated:
        return f"user:{request.user.get_username()}"
    return "anonymous"
