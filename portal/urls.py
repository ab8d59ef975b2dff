from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from integrations import health

urlpatterns = [
    path("admin/django-rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("integrations.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="api-schema"),
        name="api-docs",
    ),
    path("health/", health.health, name="health"),
    path("", health.root_redirect),
]

# JSON for callers of /api/, Django's HTML pages for everything else.
handler400 = "integrations.api.errors.bad_request"
handler403 = "integrations.api.errors.permission_denied"
handler404 = "integrations.api.errors.page_not_found"
handler500 = "integrations.api.errors.server_error"
