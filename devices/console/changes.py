"""The "What changed?" page's filters: the fleet's event timeline narrowed by GET parameters."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from collectors.models import Event, EventKind, Severity
from devices.models import Device

__all__ = ["PAGE_SIZE", "SINCE", "ChangesFilter"]

PAGE_SIZE = 50
SINCE: dict[str, tuple[dt.timedelta | None, str]] = {
    "1h": (dt.timedelta(hours=1), "Last hour"),
    "24h": (dt.timedelta(hours=24), "Last 24 hours"),
    "7d": (dt.timedelta(days=7), "Last 7 days"),
    "30d": (dt.timedelta(days=30), "Last 30 days"),
    "all": (None, "Any time"),
}
DEFAULT_SINCE = "7d"


class ChangesFilter(forms.Form):
    """Every field is optional; an invalid value is ignored (the page shows the unfiltered
    timeline for it) rather than refused, since these are bookmarkable links."""

    device = forms.ModelChoiceField(
        queryset=Device.objects.order_by("name"), required=False, empty_label="All devices"
    )
    kind = forms.ChoiceField(choices=[("", "All kinds"), *EventKind.choices], required=False)
    severity = forms.ChoiceField(
        label="Severity (at least)",
        choices=[("", "Any severity"), *Severity.choices],
        required=False,
    )
    since = forms.ChoiceField(
        label="Time range",
        choices=[(key, words) for key, (_, words) in SINCE.items()],
        required=False,
    )

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        for name, bound in self.fields.items():
            bound.widget.attrs["id"] = f"filter-{name}"

    def filters(self) -> dict[str, Any]:
        """The valid values, one by one: a wrong device id does not drop a good severity."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: cleaned.get(name) for name in self.fields if name not in self.errors}

    def events(self, now: dt.datetime | None = None) -> QuerySet[Event]:
        values = self.filters()
        qs = Event.objects.select_related("device")
        if values.get("device"):
            qs = qs.for_device(values["device"].pk)
        if values.get("kind"):
            qs = qs.filter(kind=values["kind"])
        if values.get("severity"):
            qs = qs.at_least(values["severity"])
        span, _ = SINCE[values.get("since") or DEFAULT_SINCE]
        if span is not None:
            qs = qs.filter(occurred_at__gte=(now or timezone.now()) - span)
        return qs

    def live_filters(self) -> dict[str, str]:
        """The filters as the page's script applies them to events arriving live."""
        values = self.filters()
        return {
            "device": str(values["device"].pk) if values.get("device") else "",
            "kind": values.get("kind") or "",
            "severity": values.get("severity") or "",
        }
