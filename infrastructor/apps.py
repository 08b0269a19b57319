from django.apps import AppConfig


class InfrastructorConfig(AppConfig):
    """The project package doubles as an app: it owns API tokens and the health checks."""

    name = "infrastructor"
    verbose_name = "Infrastructor"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from infrastructor import checks, signals  # noqa: F401  (registers checks and hooks)
