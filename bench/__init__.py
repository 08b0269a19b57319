"""Benchmarks: scripts run as `uv run python bench/<name>.py`, each printing one JSON object."""
