"""ASGI entry point for daphne: HTTP (admin, API, health) and WebSocket routing."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infrastructor.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402  (needs Django set up first)

# WebSocket routes (`/ws/stream`) join here with the live console.
application = ProtocolTypeRouter({"http": django_asgi_app})
