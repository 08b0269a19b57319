"""The console's pages inside the admin site: the device page and "What changed?". The fleet
overview is the admin index (see devices.console.site). Every page is complete as served; the
static script (infrastructor/console.js) only adds what arrives on the live stream later."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.admin import AdminSite
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from devices.console.changes import DEFAULT_SINCE, PAGE_SIZE, ChangesFilter
from devices.console.charts import legend_dash, render_svg, summary
from devices.console.selectors import device_details, fleet_overview
from devices.console.series import RANGES, device_charts, time_range
from devices.models import Device, DeviceStatus

if TYPE_CHECKING:
    from devices.console.charts import Chart

__all__ = ["changes", "device_console", "overview_context"]

VIEW_DEVICE = "devices.view_device"
VIEW_EVENT = "collectors.view_event"


def _require(request: HttpRequest, *perms: str) -> None:
    if not request.user.has_perms(perms):
        raise PermissionDenied


def _stream_url() -> str:
    return "/ws/stream"


def _status_labels() -> dict[str, str]:
    """For the script: device.status messages carry the value, people read the label."""
    return {status.value: str(status.label) for status in DeviceStatus}


def overview_context(request: HttpRequest) -> dict[str, Any]:
    """The fleet overview shown above the admin's app list, for people who may see devices."""
    if not request.user.has_perms([VIEW_DEVICE, VIEW_EVENT]):
        return {}
    return {
        "overview": fleet_overview(),
        "stream_url": _stream_url(),
        "live_topics": "fleet events",
        "status_labels": _status_labels(),
        "changes_url": reverse("admin:changes"),
    }


def _chart_context(chart: Chart) -> dict[str, Any]:
    legend = [(line.label, index % 6, legend_dash(index)) for index, line in
              enumerate(chart.lines)]  # fmt: skip
    return {"chart": chart, "svg": render_svg(chart), "summary": summary(chart), "legend": legend}


def device_console(request: HttpRequest, pk: int, site: AdminSite) -> TemplateResponse:
    _require(request, VIEW_DEVICE, VIEW_EVENT)
    device = get_object_or_404(Device, pk=pk)
    window = time_range(request.GET.get("range"))
    charts = [_chart_context(chart) for chart in device_charts(device, window)]
    if request.GET.get("fragment") == "charts":
        # The charts alone, redrawn: console.js swaps them in after a poll's metrics arrive.
        return TemplateResponse(request, "admin/console/_charts.html", {"charts": charts})
    context = {
        **site.each_context(request),
        "title": f"{device.name}: console",
        "device": device,
        "opts": Device._meta,
        "window": window,
        "ranges": [(key, words) for key, (_, words) in RANGES.items()],
        "charts": charts,
        "resolution": charts[0]["chart"].resolution if charts else "",
        "rendered_at": timezone.now(),
        "stream_url": _stream_url(),
        "live_topics": f"device:{device.pk} metrics:{device.pk}",
        "status_labels": _status_labels(),
        "changes_url": f"{reverse('admin:changes')}?device={device.pk}",
        **device_details(device),
    }
    return TemplateResponse(request, "admin/console/device.html", context)


def changes(request: HttpRequest, site: AdminSite) -> TemplateResponse:
    _require(request, VIEW_EVENT)
    data = request.GET.copy()
    data.setdefault("since", DEFAULT_SINCE)
    form = ChangesFilter(data)
    page = Paginator(form.events(), PAGE_SIZE).get_page(request.GET.get("page"))
    query = data.copy()
    query.pop("page", None)
    live = form.live_filters()
    topics = f"device:{live['device']}" if live["device"] else "events"
    context = {
        **site.each_context(request),
        "title": "What changed?",
        "form": form,
        "page": page,
        "events": list(page.object_list),
        "query": query.urlencode(),
        "live_filters": live,
        # Only the first page grows live: later pages are fixed slices of the past.
        "stream_url": _stream_url() if page.number == 1 else "",
        "live_topics": topics,
    }
    return TemplateResponse(request, "admin/console/changes.html", context)
