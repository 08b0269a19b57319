"""Authentication, scopes and rate limits shared by the API (and later WebSocket and MCP)."""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling
from rest_framework.request import Request

from infrastructor.models import TOKEN_PREFIX, ApiToken, Scope, hash_secret

if TYPE_CHECKING:  # rest_framework.views imports this module through its settings
    from rest_framework.views import APIView

# last_used_at is a hint for people cleaning up tokens, not an audit trail: write it at most
# once a minute per token rather than on every request.
_LAST_USED_GRANULARITY = timedelta(minutes=1)


def resolve_token(raw: str) -> ApiToken | None:
    """The active token for a clear value, or None. Constant-time comparison of the hash."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    key_id, sep, secret = raw[len(TOKEN_PREFIX) :].partition("_")
    if not sep or not key_id or not secret:
        return None
    token = ApiToken.objects.active().select_related("user").filter(key_id=key_id).first()
    if token is None or not hmac.compare_digest(token.secret_hash, hash_secret(secret)):
        return None
    if not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > _LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer ifr_...` (or `Token ifr_...`)."""

    keywords = ("bearer", "token")

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if len(header) != 2 or header[0].decode(errors="replace").lower() not in self.keywords:
            return None
        raw = header[1].decode(errors="replace")
        if not raw.startswith(TOKEN_PREFIX):
            return None  # let the JWT authenticator have a go
        token = resolve_token(raw)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked API token.")
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


def request_scope(request: Request) -> str | None:
    """The scope a request acts with: the token's, or the user's (staff are operators)."""
    if isinstance(request.auth, ApiToken):
        return request.auth.scope
    user = request.user
    if user is None or not user.is_authenticated:
        return None
    return Scope.OPERATOR if user.is_staff else Scope.READ


class ScopePermission(permissions.BasePermission):
    """Everyone authenticated may read; changing anything needs the operator scope."""

    message = "This needs an operator-scope token or a staff account."

    def has_permission(self, request: Request, view: APIView) -> bool:
        scope = request_scope(request)
        if scope is None:
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return scope == Scope.OPERATOR


class PerTokenThrottle(throttling.SimpleRateThrottle):
    """One bucket per token (or per user for sessions/JWT). Anonymous callers are limited by
    DRF's AnonRateThrottle instead, with their own, lower rate."""

    scope = "token"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user is not None and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Our tokens in the OpenAPI schema: a bearer token (`ifr_...`), so Swagger UI can send it."""

    target_class = "infrastructor.auth.ApiTokenAuthentication"
    name = "ApiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "bearerFormat": "ifr_... API token"}
