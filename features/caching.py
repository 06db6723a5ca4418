"""
A shared cache of the public site's pages and feeds, for anonymous readers.

Every cached page is filed under the current *generation*, a counter kept in the shared cache
(Redis in production), so one increment empties the cache for every app process at once. The
counter goes up whenever public content changes (a save or delete of a live or withdrawn
feature, an author, a download, a section…) and when the next scheduled item's time comes:
the moment of the next go-live is stored with each generation and checked on every request.
Staff are never served from the cache and never fill it. If the cache cannot be reached,
pages are served from the database and the failure is logged.
"""

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Min
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control

logger = logging.getLogger(__name__)

GENERATION = "pages:generation"
# What a cache that cannot be reached raises: the Redis client's errors, or the socket's.
try:
    from redis.exceptions import RedisError

    CACHE_ERRORS = (RedisError, OSError)
except ImportError:  # pragma: no cover - redis is a pinned requirement
    CACHE_ERRORS = (OSError,)

NEVER_CACHED = ("/admin/", "/preview/", "/healthz", "/media/", "/static/")
NEVER_BEFORE = 0  # stored when nothing is scheduled


def bump(**kwargs):
    """
    Empty the page cache everywhere: public content has changed. It happens when the
    change is committed: emptied any earlier, a reader's request could store the old page
    again under the new generation.
    """
    transaction.on_commit(_next_generation, robust=True)


def _next_generation():
    try:
        # A fresh counter starts from the clock, so it never meets keys of an old one.
        if not cache.add(GENERATION, time.time_ns() // 1000, timeout=None):
            cache.incr(GENERATION)
    except ValueError:  # the counter vanished between add and incr
        cache.set(GENERATION, time.time_ns() // 1000, timeout=None)
    except CACHE_ERRORS as error:
        logger.error("Could not empty the page cache: %s", error)


def feature_saved(sender, instance, **kwargs):
    # Drafts and features in review are not public: saving one changes no page.
    private = {"draft", "in_review"}
    if instance.status in private and getattr(instance, "_loaded_status", "draft") in private:
        return
    bump()


def next_go_live():
    """When the next scheduled feature or download goes live, or None."""
    from .models import Download, Feature, Status

    now = timezone.now()
    moments = [
        model.objects.filter(status=Status.PUBLISHED, publish_at__gt=now).aggregate(
            next=Min("publish_at")
        )["next"]
        for model in (Feature, Download)
    ]
    moments = [moment for moment in moments if moment]
    return min(moments) if moments else None


def connect():
    """Listen to every model whose changes can show on a public page."""
    from taggit.models import Tag, TaggedItem

    from .models import Author, Byline, Download, DownloadVersion, Feature, Section

    post_save.connect(feature_saved, sender=Feature, dispatch_uid="pages-feature-saved")
    post_delete.connect(bump, sender=Feature, dispatch_uid="pages-feature-deleted")
    m2m_changed.connect(
        bump, sender=Feature.downloads.through, dispatch_uid="pages-feature-downloads"
    )
    for model in (Byline, Download, DownloadVersion, Section, Author, Tag, TaggedItem):
        for signal in (post_save, post_delete):
            signal.connect(bump, sender=model, dispatch_uid=f"pages-{model.__name__}-{signal}")


class PublicPageCacheMiddleware:
    """Serve anonymous GETs of public pages and feeds from the shared cache."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not self.cacheable_request(request):
            response = self.get_response(request)
            self.add_cache_control(request, response)
            return response
        try:
            key, timeout = self.lookup(request)
            cached = cache.get(key) if key else None
        except CACHE_ERRORS as error:
            logger.error("Page cache unavailable, serving from the database: %s", error)
            response = self.get_response(request)
            self.add_cache_control(request, response)
            return response
        if cached is not None:
            return self.rebuild(cached, timeout)
        response = self.get_response(request)
        self.add_cache_control(request, response)
        if key and self.cacheable_response(response):
            try:
                cache.set(key, self.freeze(response), timeout=timeout)
            except CACHE_ERRORS as error:
                logger.error("Could not store a page in the cache: %s", error)
            else:
                response["X-Cache"] = "miss"
        return response

    @staticmethod
    def public_request(request):
        if request.method not in {"GET", "HEAD"} or request.path.startswith(NEVER_CACHED):
            return False
        # Anyone with a session may be staff: they never read from or write to the cache.
        return settings.SESSION_COOKIE_NAME not in request.COOKIES

    def cacheable_request(self, request):
        return (
            settings.NEWSROOM["PAGE_CACHE"]
            and request.method == "GET"
            and self.public_request(request)
        )

    def add_cache_control(self, request, response):
        """Public pages tell browsers and CDNs how long they may keep them, cache or no cache."""
        if "Cache-Control" in response or not self.public_request(request):
            return
        if not self.cacheable_response(response):
            return
        moment = next_go_live()
        max_age = settings.NEWSROOM["PAGE_MAX_AGE"]
        if moment:
            max_age = max(0, min(max_age, int((moment - timezone.now()).total_seconds())))
        patch_cache_control(response, public=True, max_age=max_age)

    @staticmethod
    def cacheable_response(response):
        cache_control = response.get("Cache-Control", "")
        return (
            response.status_code == 200
            and not response.streaming
            and not response.cookies
            and "private" not in cache_control
            and "no-store" not in cache_control
        )

    @staticmethod
    def lookup(request):
        """The cache key of this request's page, and how long it may be kept."""
        generation = cache.get(GENERATION)
        if generation is None:
            _next_generation()
            generation = cache.get(GENERATION)
            if generation is None:
                return None, 0
        now = timezone.now().timestamp()
        go_live_key = f"pages:{generation}:next-go-live"
        go_live = cache.get(go_live_key)
        if go_live is None:
            moment = next_go_live()
            go_live = moment.timestamp() if moment else NEVER_BEFORE
            cache.set(go_live_key, go_live, timeout=settings.NEWSROOM["PAGE_CACHE_SECONDS"])
        if go_live and go_live <= now:
            # A scheduled item has just gone live: every page may show it.
            _next_generation()
            return None, 0
        timeout = settings.NEWSROOM["PAGE_CACHE_SECONDS"]
        if go_live:
            timeout = max(1, min(timeout, int(go_live - now)))
        variant = "page" if "text/html" in request.headers.get("Accept", "") else "data"
        # The whole address: pages carry absolute links for the host and scheme asked for.
        digest = hashlib.sha256(request.build_absolute_uri().encode()).hexdigest()
        return f"pages:{generation}:{variant}:{digest}", timeout

    @staticmethod
    def freeze(response):
        return (response.status_code, list(response.items()), response.content)

    @staticmethod
    def rebuild(frozen, seconds_left):
        """The stored page, its max-age cut to what is left before the next go-live."""
        status, headers, content = frozen
        response = HttpResponse(content, status=status)
        for name, value in headers:
            response[name] = value
        if "max-age=" in response.get("Cache-Control", ""):
            stored = int(response["Cache-Control"].split("max-age=")[1].split(",")[0])
            patch_cache_control(response, max_age=min(stored, seconds_left))
        response["X-Cache"] = "hit"
        return response
