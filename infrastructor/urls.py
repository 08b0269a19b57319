from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from infrastructor.api import router
from infrastructor.errors import not_found
from infrastructor.health import HistoryHealthView, health

urlpatterns = [
    path("health", health, name="health"),
    path("admin/", admin.site.urls),
    path("api/health/history/", HistoryHealthView.as_view(), name="health-history"),
    path("api/", include(router.urls)),
    path("api/auth/jwt/", TokenObtainPairView.as_view(), name="jwt-obtain"),
    path("api/auth/jwt/refresh/", TokenRefreshView.as_view(), name="jwt-refresh"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

# A URL no route matches: JSON for API clients, Django's page for people.
handler404 = not_found
