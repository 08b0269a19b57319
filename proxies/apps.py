from django.apps import AppConfig


class ProxiesConfig(AppConfig):
    """SWAG/nginx reverse-proxy configurations (arrive with the proxies feature)."""

    name = "proxies"
    default_auto_field = "django.db.models.BigAutoField"
