"""WSGI entry point (gunicorn in production)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_wsgi_application()

from portal.embedded import ensure_embedded_services  # noqa: E402

ensure_embedded_services()
