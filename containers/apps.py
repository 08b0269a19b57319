from django.apps import AppConfig


class ContainersConfig(AppConfig):
    """Docker containers and Compose projects: collection kinds, state, stats, actions."""

    name = "containers"
    verbose_name = "Containers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from containers import kinds  # noqa: F401  (registers the Docker collection kinds)
