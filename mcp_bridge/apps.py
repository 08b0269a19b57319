from django.apps import AppConfig


class McpBridgeConfig(AppConfig):
    """The MCP server for AI agents (`manage.py runmcp`, arrives with the MCP feature)."""

    name = "mcp_bridge"
    default_auto_field = "django.db.models.BigAutoField"
