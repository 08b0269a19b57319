from django.apps import AppConfig


class ZfsConfig(AppConfig):
    """ZFS pools, vdevs, datasets and snapshots (kinds arrive with the storage feature)."""

    name = "zfs"
    default_auto_field = "django.db.models.BigAutoField"
