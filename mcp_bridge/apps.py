from django.apps import AppConfig


class McpBridgeConfig(AppConfig):
    """The MCP server for AI agents (`manage.py runmcp`): tools, resources and prompts over the
    same selectors, serializers and services as the API."""

    name = "mcp_bridge"
    verbose_name = "MCP"
    default_auto_field = "django.db.models.BigAutoField"
