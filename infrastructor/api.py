"""The API router: every app's viewsets under /api/."""

from rest_framework.routers import DefaultRouter

from collectors.alerts.api import (
    AlertRuleViewSet,
    AlertViewSet,
    ChannelViewSet,
    SilenceViewSet,
)
from collectors.api import CollectionRunViewSet, EventViewSet, OperationViewSet
from containers.api import ComposeProjectViewSet, ContainerViewSet
from devices.api.configs import ConfigFileViewSet, WatchedPathViewSet
from devices.api.drives import DriveViewSet
from devices.api.ports import ListeningPortViewSet
from devices.api.views import DeviceViewSet
from proxies.api import ProxyConfigViewSet
from zfs.api import ArcSampleViewSet, DatasetViewSet, PoolViewSet, SnapshotViewSet

router = DefaultRouter()
router.register("devices", DeviceViewSet)
router.register("drives", DriveViewSet)
router.register("ports", ListeningPortViewSet)
router.register("config-files", ConfigFileViewSet)
router.register("watched-paths", WatchedPathViewSet)
router.register("collection-runs", CollectionRunViewSet)
router.register("events", EventViewSet)
router.register("operations", OperationViewSet)
router.register("containers", ContainerViewSet)
router.register("compose-projects", ComposeProjectViewSet)
router.register("zfs/pools", PoolViewSet)
router.register("zfs/datasets", DatasetViewSet)
router.register("zfs/snapshots", SnapshotViewSet)
router.register("zfs/arc", ArcSampleViewSet)
router.register("proxies", ProxyConfigViewSet)
router.register("alerts", AlertViewSet)
router.register("alert-rules", AlertRuleViewSet)
router.register("silences", SilenceViewSet)
router.register("channels", ChannelViewSet)
