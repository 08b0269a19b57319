"""ZFS actions in the API, as mixins for the viewsets of zfs/api.py.

- `POST /api/zfs/pools/{id}/scrub/`: start a scrub.
- `POST /api/zfs/datasets/{id}/snapshot/` with `{"name"?: str, "recursive"?: bool}`: snapshot.
- `DELETE /api/zfs/snapshots/{id}/`: destroy that snapshot on the device (the row is kept and
  marked removed by the re-collection, as for anything that disappears).
- `GET /api/zfs/snapshots/{id}/diff/?other=<id or dataset@snapshot>`: what changed between two
  snapshots of one dataset.

Changes need the operator scope and reads the read scope (ScopePermission, by HTTP method), as
for containers. Bad input is a 400 naming the field; a command that failed on the device is a
502 with the operation (its id, error and output excerpt). Each view only translates HTTP to
a call of zfs.services.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from collectors.api import OperationSerializer
from collectors.models import Trigger
from collectors.operations import OperationOutput
from infrastructor.actors import actor_for
from zfs import services
from zfs.models import Dataset, Pool, Snapshot

if TYPE_CHECKING:
    from rest_framework.viewsets import GenericViewSet

    _PoolView = GenericViewSet[Pool]
    _DatasetView = GenericViewSet[Dataset]
    _SnapshotView = GenericViewSet[Snapshot]
else:
    _PoolView = _DatasetView = _SnapshotView = object

_ACTION_RESPONSES = {200: dict, 400: dict, 403: dict, 502: dict}


def _invalid(e: services.InvalidInput) -> ValidationError:
    return ValidationError({e.field: str(e)})


def _status(output: OperationOutput, ok: int = status.HTTP_200_OK) -> int:
    return ok if output.ok else status.HTTP_502_BAD_GATEWAY


class PoolActionsMixin(_PoolView):
    @extend_schema(request=None, responses=_ACTION_RESPONSES)
    @action(detail=True, methods=["post"])
    def scrub(self, request: Request, pk: str | None = None) -> Response:
        """`zpool scrub`, audited; the pool's status is collected again afterwards."""
        try:
            result = services.scrub_pool(
                self.get_object(), actor=actor_for(request), trigger=Trigger.API
            )
        except services.InvalidInput as e:
            raise _invalid(e) from e
        return Response(
            {
                "ok": result.output.ok,
                "operation": OperationSerializer(result.output.operation).data,
                "pool": self.get_serializer(result.pool).data,
            },
            status=_status(result.output),
        )


class DatasetActionsMixin(_DatasetView):
    @extend_schema(
        request=inline_serializer(
            "SnapshotCreate",
            {
                "name": serializers.CharField(
                    required=False,
                    help_text="The part after @; default infra-YYYYMMDD-HHMMSS (UTC)",
                ),
                "recursive": serializers.BooleanField(
                    required=False, help_text="Also snapshot every descendant dataset (-r)"
                ),
            },
        ),
        responses={201: dict, 400: dict, 403: dict, 502: dict},
    )
    @action(detail=True, methods=["post"])
    def snapshot(self, request: Request, pk: str | None = None) -> Response:
        """`zfs snapshot [-r]`, audited; datasets and snapshots are collected again afterwards."""
        body: Any = request.data
        if not isinstance(body, Mapping):
            raise ValidationError({"non_field_errors": "expected a JSON object"})
        try:
            result = services.create_snapshot(
                self.get_object(),
                actor=actor_for(request),
                name=body.get("name"),
                recursive=body.get("recursive", False),
                trigger=Trigger.API,
            )
        except services.InvalidInput as e:
            raise _invalid(e) from e
        snapshot = result.snapshot
        return Response(
            {
                "ok": result.output.ok,
                "name": result.name,
                "operation": OperationSerializer(result.output.operation).data,
                # None until a collection has listed it (one was queued if the device was busy)
                "snapshot": _snapshot_data(snapshot),
            },
            status=_status(result.output, status.HTTP_201_CREATED),
        )


def _snapshot_data(snapshot: Snapshot | None) -> dict[str, Any] | None:
    # Imported here: zfs.api imports this module for its viewsets.
    from zfs.api import SnapshotSerializer

    return None if snapshot is None else dict(SnapshotSerializer(snapshot).data)


class SnapshotActionsMixin(_SnapshotView):
    @extend_schema(request=None, responses=_ACTION_RESPONSES)
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """`zfs destroy` of this one snapshot on the device (never a dataset, never recursive),
        audited; the row stays, marked removed once `zfs list` no longer shows it."""
        try:
            result = services.destroy_snapshot(
                self.get_object(), actor=actor_for(request), trigger=Trigger.API
            )
        except services.InvalidInput as e:
            raise _invalid(e) from e
        return Response(
            {
                "ok": result.output.ok,
                "operation": OperationSerializer(result.output.operation).data,
                "snapshot": self.get_serializer(result.snapshot).data,
            },
            status=_status(result.output),
        )

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "other", str, required=True,
                description="The other snapshot of the same dataset: its id or dataset@snapshot",
            ),
        ],
        responses={200: dict, 400: dict, 502: dict},
    )  # fmt: skip
    @action(detail=True, methods=["get"])
    def diff(self, request: Request, pk: str | None = None) -> Response:
        """`zfs diff` between this snapshot and `other`, older first, read now from the device.

        Each change: `change` (M modified, + added, - removed, R renamed), `file_type` (F file,
        / directory, @ symlink, ...), `path`, `new_path` (renames), `link_delta` (link count
        changes) and `changed_at`. At most 5,000 changes; `truncated` says there were more.
        """
        try:
            result = services.diff_snapshots(
                self.get_object(),
                request.query_params.get("other", ""),
                actor=actor_for(request),
                trigger=Trigger.API,
            )
        except services.InvalidInput as e:
            raise _invalid(e) from e
        return Response(
            result.as_json(),
            status=status.HTTP_200_OK if result.ok else status.HTTP_502_BAD_GATEWAY,
        )
