"""Apprise URLs: the channel kind for everything we do not speak ourselves (Discord, Telegram,
Slack, Pushover, Matrix... https://github.com/caronc/apprise/wiki).

A channel's Apprise URLs carry their services' tokens, so they are kept like the other channels'
secrets (`Channel.secret`: write-only in the API, never shown back in the admin); what is shown
is Apprise's own masked form (`discord://1...4/a...d/`).

`apprise` is imported inside these functions, not at the top: importing it costs ~0.25 s and its
first URL ~0.8 s (it loads its plugins), which every process that loads the models (web, beat,
MCP, `manage.py parse`) would otherwise pay, for a kind most installations never use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from collectors.models import Severity

if TYPE_CHECKING:
    from apprise import NotifyType

# Several URLs in one channel: separated like Apprise's own CLI does (spaces, commas, newlines).
MAX_URLS = 20


def split_urls(text: str) -> list[str]:
    from apprise.utils.parse import parse_urls

    return [str(url) for url in parse_urls(text or "")]


def url_problem(text: str) -> str | None:
    """Why these Apprise URLs cannot be used (the first bad one, masked), or None."""
    from apprise import Apprise

    urls = split_urls(text)
    if not urls:
        return "Give at least one Apprise URL (discord://..., tgram://..., json://...)."
    if len(urls) > MAX_URLS:
        return f"At most {MAX_URLS} Apprise URLs per channel."
    for url in urls:
        if Apprise.instantiate(url) is None:
            scheme = url.split("://", 1)[0][:20] if "://" in url else "?"
            return (
                f"Apprise does not understand the {scheme}:// URL "
                "(unknown service, or a token or field in the wrong shape; see "
                "https://github.com/caronc/apprise/wiki)."
            )
    return None


def masked(text: str) -> list[str]:
    """Each URL as Apprise shows it with its secrets elided, without its query string."""
    from apprise import Apprise

    shown = []
    for url in split_urls(text):
        service = Apprise.instantiate(url)
        shown.append(service.url(privacy=True).split("?", 1)[0] if service else "(invalid)")
    return shown


@dataclass(frozen=True)
class Outcome:
    """What Apprise says of one notify call: delivered to every URL, or why not."""

    ok: bool
    error: str


def notify_type(severity: str, reason: str) -> NotifyType:
    from apprise import NotifyType

    if reason == "resolved":
        return NotifyType.SUCCESS
    return {
        Severity.CRITICAL: NotifyType.FAILURE,
        Severity.WARNING: NotifyType.WARNING,
    }.get(Severity(severity), NotifyType.INFO)


def send(urls: str, *, title: str, body: str, severity: str, reason: str,
         timeout_s: float) -> Outcome:  # fmt: skip
    """One Apprise call to every URL of a channel, bounded by `timeout_s` as a whole. Any URL
    that fails makes the whole call a failure (retried whole by the task: give services that
    fail independently channels of their own)."""
    from apprise import Apprise, AppriseAsset

    asset = AppriseAsset(app_id="Infrastructor", app_desc="Infrastructor alerts")
    apobj = Apprise(asset=asset)
    if not apobj.add(split_urls(urls)):
        return Outcome(False, "Apprise does not understand one of the channel's URLs")
    result = apobj.notify(
        body=body, title=title, notify_type=notify_type(severity, reason), timeout=timeout_s
    )
    if result:
        return Outcome(True, "")
    # The services' own warnings say why (a connection error, HTTP 401...).
    failed = [r.name for r in result if not r]
    lines = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR", "CRITICAL")]
    why = "; ".join(dict.fromkeys(lines)) or result.status.name.lower()
    return Outcome(False, f"{', '.join(failed) or 'Apprise'}: {why}"[:500])
