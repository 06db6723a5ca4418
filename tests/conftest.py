import shutil
import tempfile

import pytest
from django.core.cache import caches
from django.test import override_settings


@pytest.fixture(autouse=True, scope="session")
def media_root():
    """Uploaded files go to a temporary folder, removed after the run."""
    folder = tempfile.mkdtemp(prefix="newsroom-media-")
    with override_settings(MEDIA_ROOT=folder):
        yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def clear_caches():
    """Each test starts with empty caches."""
    for cache in caches.all():
        cache.clear()
    yield
