"""Alerts and notifications built on the event timeline (issue #9).

`models` (rules, alerts, silences, channels, attempts), `engine` (events in, alerts out),
`notify` (delivery to webhook and ntfy channels), `tasks` (Celery), `builtin` (the rules created
on first start), `api` and `admin`.
"""
