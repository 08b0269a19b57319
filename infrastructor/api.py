"""The API router: every app's viewsets under /api/."""

from rest_framework.routers import DefaultRouter

from collectors.api import CollectionRunViewSet, EventViewSet
from devices.api.views import DeviceViewSet

router = DefaultRouter()
router.register("devices", DeviceViewSet)
router.register("collection-runs", CollectionRunViewSet)
router.register("events", EventViewSet)
