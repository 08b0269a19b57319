from django.apps import AppConfig


class ContainersConfig(AppConfig):
    """Docker containers and Compose projects (kinds arrive with the containers feature)."""

    name = "containers"
    default_auto_field = "django.db.models.BigAutoField"
