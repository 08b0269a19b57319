"""Infrastructor: agentless monitoring and operations for homelabs, over SSH."""

from infrastructor.celery import app as celery_app

__all__ = ["celery_app"]
