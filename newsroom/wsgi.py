"""WSGI entry point, used by gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")

django_application = get_wsgi_application()

from features.caching import CachedPagesApp  # noqa: E402 - needs the settings set up first

# Stored pages go back to anonymous readers before Django handles the request.
application = CachedPagesApp(django_application)
