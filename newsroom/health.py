"""/healthz: for the load balancer. Says whether the database and the cache answer."""

import logging

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from features.caching import CACHE_ERRORS

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request):
    """200 while the database answers (the site works without its cache), else 503."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except DatabaseError as error:
        logger.error("Health check: database unavailable: %s", error)
        checks["database"] = "unavailable"
    try:
        cache.set("healthz", "ok", timeout=10)
        checks["cache"] = "ok" if cache.get("healthz") == "ok" else "unavailable"
    except CACHE_ERRORS as error:
        logger.error("Health check: cache unavailable: %s", error)
        checks["cache"] = "unavailable"
    healthy = checks["database"] == "ok"
    status = "ok" if healthy and checks["cache"] == "ok" else ("degraded" if healthy else "down")
    return JsonResponse({"status": status, **checks}, status=200 if healthy else 503)
