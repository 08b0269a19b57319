from django.apps import AppConfig


class DevicesConfig(AppConfig):
    """Device registry and host-level data (system metrics, capabilities)."""

    name = "devices"
    verbose_name = "Devices"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from devices import kinds  # noqa: F401  (registers the host-level collection kinds)
