"""Built-in pool rules of existing installations also resolve when their pool disappears
(`pool.disappeared`: exported or destroyed), as new installations' rules do."""

from __future__ import annotations

from typing import Any

from django.db import migrations

EVENT = "pool.disappeared"
RULES = ("pool-not-online", "scrub-errors")


def add_resolve_event(apps: Any, schema_editor: Any) -> None:
    AlertRule = apps.get_model("collectors", "AlertRule")
    for rule in AlertRule.objects.filter(builtin_key__in=RULES):
        if EVENT not in (rule.resolve_on or []):
            rule.resolve_on = [*(rule.resolve_on or []), EVENT]
            rule.save(update_fields=["resolve_on"])


def remove_resolve_event(apps: Any, schema_editor: Any) -> None:
    AlertRule = apps.get_model("collectors", "AlertRule")
    for rule in AlertRule.objects.filter(builtin_key__in=RULES):
        if EVENT in (rule.resolve_on or []):
            rule.resolve_on = [e for e in rule.resolve_on if e != EVENT]
            rule.save(update_fields=["resolve_on"])


class Migration(migrations.Migration):
    dependencies = [("collectors", "0006_apprise_channels")]

    operations = [migrations.RunPython(add_resolve_event, remove_resolve_event)]
