"""ASGI entry point for daphne: HTTP (admin, API, health) and WebSocket (`/ws/stream`) routing."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infrastructor.settings")
django_asgi_app = get_asgi_application()

# These need Django set up first.
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from collectors.stream.routing import BrowserOriginValidator, websocket_urlpatterns  # noqa: E402

# A browser's Origin must be one of ALLOWED_HOSTS (no cross-site use of the admin's session);
# other clients send none and authenticate with a token. The session middleware lets the admin
# console's cookie log the socket in.
application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": BrowserOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
