from django.apps import AppConfig


class CollectorsConfig(AppConfig):
    """The collection engine: transports, the registry of kinds, the collect service, audit."""

    name = "collectors"
    verbose_name = "Collection engine"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from collectors import schedules

        schedules.connect_post_migrate(self)
