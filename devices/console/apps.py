"""The admin app with the console's site as its default (`admin.site`), so every
`@admin.register` in the project lands on the site that serves the console."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class ConsoleAdminConfig(AdminConfig):
    default_site = "devices.console.site.ConsoleAdminSite"
