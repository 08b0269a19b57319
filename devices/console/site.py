"""The admin site of the console: its index is the fleet overview (above the usual app list),
and it serves the device pages and "What changed?" behind the admin's own login."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, path

from devices.console import views


class ConsoleAdminSite(admin.AdminSite):
    site_header = "Infrastructor"
    site_title = "Infrastructor"
    index_title = "Fleet overview"
    index_template = "admin/console/overview.html"

    def get_urls(self) -> list[URLResolver | URLPattern]:
        # Before the admin's own: its model URLs would take `devices/device/<id>/console/`
        # for an object id with a slash in it.
        console = [
            path("changes/", self.admin_view(self.changes_view), name="changes"),
            path(
                "devices/device/<int:pk>/console/",
                self.admin_view(self.device_console_view),
                name="devices_device_console",
            ),
        ]
        return console + super().get_urls()

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        context = views.overview_context(request) | (extra_context or {})
        return super().index(request, context)

    def changes_view(self, request: HttpRequest) -> TemplateResponse:
        return views.changes(request, self)

    def device_console_view(self, request: HttpRequest, pk: int) -> TemplateResponse:
        return views.device_console(request, pk, self)
