"""The proxy collection kinds: the SWAG survey per device, and one conf for `manage.py parse`."""

from __future__ import annotations

from django.conf import settings

from collectors.kinds import Kind, registry
from proxies import discovery, parsers, store, survey

PROXIES = "proxies"

for kind in (
    # `command` is the survey of a SWAG container's own /config; each device gets its own
    # (its instance folders, the hashes we hold) from build_command.
    Kind(survey.KIND, survey.survey_command([("/config", {})]), survey.parse_swag_survey,
         "SWAG proxy confs of every instance on the device (hashes; content only when changed)",
         store.store_swag_confs, group=PROXIES, interval_s=settings.PROXIES_INTERVAL,
         build_command=discovery.build_command),
    # Parse-only: the survey above carries each conf; this reads one file a person has at hand.
    Kind(parsers.KIND, "cat /config/nginx/proxy-confs/APP.subdomain.conf", parsers.parse_swag_conf,
         "One SWAG proxy conf: server names, upstream, auth, listen ports, locations"),
):  # fmt: skip
    registry.register(kind)
