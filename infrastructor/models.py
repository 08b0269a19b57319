"""API tokens: named, revocable, scoped credentials for the REST API, WebSocket and MCP."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models
from django.utils import timezone

TOKEN_PREFIX = "ifr_"  # noqa: S105  (a visible prefix, so leaked tokens are recognisable)


class Scope(models.TextChoices):
    READ = "read", "Read-only"
    OPERATOR = "operator", "Operator (may change devices)"


def hash_secret(secret: str) -> str:
    # Tokens are 32 random bytes: a fast hash is enough, a slow KDF would only slow every request.
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=timezone.now())
        )


class ApiToken(models.Model):
    """A bearer token. Only its hash is stored; the clear value is shown once, at creation."""

    name = models.CharField(max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    scope = models.CharField(max_length=16, choices=Scope.choices, default=Scope.READ)
    key_id = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="unique_token_name_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_scope_display()})"

    @classmethod
    def issue(cls, *, user: User, name: str, scope: str = Scope.READ) -> tuple[ApiToken, str]:
        """Create a token; returns it with the clear value, which is never retrievable again."""
        token = cls(user=user, name=name, scope=scope)
        clear = token.assign_secret()
        token.save()
        return token, clear

    def assign_secret(self) -> str:
        """Give an unsaved token its id and secret; returns the clear value to show once."""
        self.key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        self.secret_hash = hash_secret(secret)
        return f"{TOKEN_PREFIX}{self.key_id}_{secret}"

    @property
    def is_active(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])
