from django.apps import AppConfig


class ZfsConfig(AppConfig):
    """ZFS pools, vdevs, datasets and snapshots: parsers and kinds now, models next."""

    name = "zfs"
    verbose_name = "ZFS"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from zfs import kinds  # noqa: F401  (registers the ZFS collection kinds)
