"""Who an MCP session acts as: always one of our API tokens.

Over HTTP every request carries `Authorization: Bearer ifr_...`, checked by the SDK's bearer
middleware through `ApiTokenVerifier` (the same `resolve_token` as the REST API). Over stdio the
process acts as the token named by the MCP_TOKEN setting, resolved once at start and checked
again on every call, so revoking it takes effect at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.db import close_old_connections
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken

from infrastructor.auth import resolve_token
from infrastructor.models import TOKEN_PREFIX, ApiToken, Scope


class NoToken(Exception):
    """MCP_TOKEN is empty, unknown, revoked or ambiguous: stdio cannot start."""


@dataclass(frozen=True)
class Principal:
    """An authenticated token, as much of it as a tool call needs before touching the ORM."""

    token_id: int
    name: str
    username: str
    scope: str

    @property
    def actor(self) -> str:
        # The same spelling as infrastructor.actors.actor_for, so audit rows read alike.
        return f"token:{self.name} ({self.username})"

    @property
    def is_operator(self) -> bool:
        return self.scope == Scope.OPERATOR

    @classmethod
    def of(cls, token: ApiToken) -> Principal:
        return cls(token.pk, token.name, token.user.get_username(), token.scope)

    def access_token(self, raw: str, expires_at: int | None) -> AccessToken:
        return AccessToken(
            token=raw,
            client_id=f"api-token-{self.token_id}",
            scopes=[self.scope],
            subject=str(self.token_id),
            expires_at=expires_at,
            claims={"name": self.name, "user": self.username},
        )

    @classmethod
    def from_access_token(cls, token: AccessToken) -> Principal:
        claims = token.claims or {}
        return cls(int(token.subject or 0), claims["name"], claims["user"], token.scopes[0])


def _resolve(raw: str) -> tuple[Principal, int | None] | None:
    # A long-lived process: drop connections the database closed meanwhile, as Django does at
    # the start of every web request.
    close_old_connections()
    token = resolve_token(raw)
    if token is None:
        return None
    expires = int(token.expires_at.timestamp()) if token.expires_at else None
    return Principal.of(token), expires


class ApiTokenVerifier:
    """The SDK's TokenVerifier over our API tokens (read or operator scope)."""

    async def verify_token(self, token: str) -> AccessToken | None:
        found = await sync_to_async(_resolve)(token)
        if found is None:
            return None
        principal, expires_at = found
        return principal.access_token(token, expires_at)


def principal_of_user(user: object) -> Principal | None:
    """The principal the bearer middleware put on an HTTP request's scope, if any."""
    if isinstance(user, AuthenticatedUser):
        return Principal.from_access_token(user.access_token)
    return None


def stdio_principal(value: str) -> Principal:
    """The token MCP_TOKEN names: a clear value (ifr_...) or an active token's name."""
    if not value:
        raise NoToken(
            "MCP_TOKEN is not set: stdio runs as an API token. Create one with "
            "`manage.py create_api_token NAME --user USER` and set MCP_TOKEN to its value or name."
        )
    if value.startswith(TOKEN_PREFIX):
        token = resolve_token(value)
        if token is None:
            raise NoToken("MCP_TOKEN is not a valid, active API token.")
        return Principal.of(token)
    matches = list(
        ApiToken.objects.active().filter(name=value, user__is_active=True).select_related("user")
    )
    if not matches:
        raise NoToken(f"MCP_TOKEN names no active API token called {value!r}.")
    if len(matches) > 1:
        raise NoToken(
            f"{len(matches)} active API tokens are called {value!r} (one per user): set "
            "MCP_TOKEN to the token's clear value instead."
        )
    return Principal.of(matches[0])


def active_token(principal: Principal) -> ApiToken | None:
    """The principal's token, unless it was revoked, expired or its user deactivated since."""
    return (
        ApiToken.objects.active()
        .select_related("user")
        .filter(pk=principal.token_id, user__is_active=True)
        .first()
    )
