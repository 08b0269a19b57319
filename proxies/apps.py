from django.apps import AppConfig


class ProxiesConfig(AppConfig):
    """SWAG/nginx reverse-proxy configurations: instances, confs, routes and their history."""

    name = "proxies"
    verbose_name = "Proxies"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from proxies import kinds  # noqa: F401  (registers the proxy collection kinds)
