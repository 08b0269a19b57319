"""WebSocket URL patterns and the origin check, mounted by infrastructor.asgi."""

from __future__ import annotations

from typing import Any
from urllib.parse import ParseResult

from channels.security.websocket import OriginValidator
from django.conf import settings
from django.urls import path

from collectors.stream.consumer import StreamConsumer

__all__ = ["BrowserOriginValidator", "websocket_urlpatterns"]

websocket_urlpatterns = [path("ws/stream", StreamConsumer.as_asgi())]


class BrowserOriginValidator(OriginValidator):
    """channels' AllowedHostsOriginValidator, except that a handshake without an Origin header
    is let through. Browsers always send one, so a page on another site cannot ride the admin's
    session cookie; scripts and CLI tools (websocat, python `websockets`) send none and must
    authenticate with a token anyway."""

    def __init__(self, application: Any) -> None:
        super().__init__(application, [])

    @property  # read per handshake, so ALLOWED_HOSTS overridden in tests applies
    def allowed_origins(self) -> list[str]:
        hosts: list[str] = list(settings.ALLOWED_HOSTS)
        if settings.DEBUG and not hosts:
            hosts = ["localhost", "127.0.0.1", "[::1]"]  # what Django itself allows then
        return hosts

    @allowed_origins.setter
    def allowed_origins(self, value: list[str]) -> None:
        pass  # the base class assigns it; ALLOWED_HOSTS is the one source

    def valid_origin(self, parsed_origin: ParseResult | None) -> bool:
        return parsed_origin is None or bool(self.validate_origin(parsed_origin))
