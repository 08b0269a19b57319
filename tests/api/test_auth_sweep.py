"""An auth sweep over every URL the platform serves: nothing but `/health` (and the doors to log
in) answers without credentials, and a read-only token can change nothing anywhere.

The URLs come from Django's own resolver, so an endpoint added later is swept too: a new view
that forgets its permission classes fails here, not in production.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

# Answer without credentials on purpose: the liveness probe, and the ways to get credentials.
PUBLIC = {"health", "api/auth/jwt/", "api/auth/jwt/refresh/", "admin/login/", "admin/logout/"}
WRITES = ("post", "put", "patch", "delete")
_PARAM = re.compile(r"<(?:(?P<conv>[a-z]+):)?(?P<name>\w+)>")
_REGEX_PARAM = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")


def _concrete(route: str) -> str:
    """A URL for a route: every parameter becomes 1 (an id, an app label...)."""
    route = _REGEX_PARAM.sub("1", route)
    route = _PARAM.sub("1", route)
    return route.replace("^", "").replace("$", "").replace("\\", "")


def _routes(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[str]:
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, route)
        else:
            yield route


def all_urls() -> list[str]:
    routes = [r for r in _routes(get_resolver().url_patterns) if "format" not in r]
    return sorted({"/" + _concrete(r) for r in routes})  # format-suffix twins left out


def api_urls() -> list[str]:
    return [u for u in all_urls() if u.startswith("/api/") and not u.startswith("/api/auth/")]


def test_the_sweep_sees_the_endpoints_it_must_guard() -> None:
    urls = all_urls()
    for expected in ("/api/devices/", "/api/drives/1/history/", "/api/zfs/pools/1/scrub/",
                     "/api/ports/", "/api/proxies/", "/admin/devices/drive/"):  # fmt: skip
        assert expected in urls, f"{expected} not found among {len(urls)} URLs"


@pytest.mark.parametrize("url", all_urls())
def test_nothing_answers_without_credentials(url: str) -> None:
    client = APIClient()
    for method in ("get", *WRITES):
        if url.lstrip("/") in PUBLIC:
            continue
        response = getattr(client, method)(url)
        if url.startswith("/admin/"):
            # the admin sends strangers to its login page (or refuses them outright)
            assert response.status_code in (302, 401, 403, 404, 405), (method, url)
            if response.status_code == 302:
                assert response["Location"].startswith("/admin/login/"), (method, url)
        else:
            assert response.status_code in (401, 403, 405), (method, url, response.status_code)


@pytest.mark.parametrize("url", api_urls())
def test_a_read_only_token_can_change_nothing(url: str, viewer_client: APIClient) -> None:
    for method in WRITES:
        response = getattr(viewer_client, method)(url, {}, format="json")
        assert response.status_code in (403, 405), (method, url, response.status_code)
