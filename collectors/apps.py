from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CollectorsConfig(AppConfig):
    """The collection engine: transports, the registry of kinds, the collect service, audit;
    and alerting on the event timeline (collectors.alerts)."""

    name = "collectors"
    verbose_name = "Collection engine"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from collectors import schedules
        from collectors.alerts import builtin
        from collectors.alerts import tasks as alert_tasks  # noqa: F401  (registers the tasks)

        schedules.connect_post_migrate(self)
        post_migrate.connect(builtin.after_migrate, sender=self, dispatch_uid="infra-alert-rules")
