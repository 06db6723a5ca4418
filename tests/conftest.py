import contextlib
import os
import shutil
import tempfile

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import override_settings

from features import caching
from features.caching import CACHE_ERRORS

IN_CI = os.environ.get("CI", "").lower() == "true"

# A Redis cache that is down: nothing listens at this address.
CACHE_DOWN = {
    "default": {
        "BACKEND": "newsroom.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


@pytest.fixture(autouse=True, scope="session")
def media_root():
    """Uploaded files go to a temporary folder, removed after the run."""
    folder = tempfile.mkdtemp(prefix="newsroom-media-")
    private = tempfile.mkdtemp(prefix="newsroom-private-")
    with override_settings(MEDIA_ROOT=folder, PRIVATE_MEDIA_ROOT=private):
        yield folder
    shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(private, ignore_errors=True)


@pytest.fixture(autouse=True)
def clear_caches():
    """Each test starts with empty caches, and a process that remembers nothing of them."""
    caching.forget()
    for cache in caches.all():
        with contextlib.suppress(CACHE_ERRORS):  # a test about a cache that is down
            cache.clear()
    yield


@pytest.fixture(autouse=True)
def page_cache(request, settings):
    """Views are tested as they are; the page cache only where a test asks for it."""
    settings.NEWSROOM = {
        **settings.NEWSROOM,
        "PAGE_CACHE": request.node.get_closest_marker("page_cache") is not None,
    }


def need(reason):
    """Skip here, with the reason; in CI a missing real part is a failure, never a skip."""
    if IN_CI:
        pytest.fail(f"{reason} (CI must run this test, not skip it)")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _real_parts(request):
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        need(
            "needs PostgreSQL: set DATABASE_URL=postgres://… (bash .ci/run starts one), "
            f"this run uses {connection.vendor}"
        )
