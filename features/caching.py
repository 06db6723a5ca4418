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
import threading
import time
from http import HTTPStatus

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Min
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpResponse
from django.http.cookie import parse_cookie
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import parse_etags, parse_http_date_safe

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

# The generation this process saw last, and the moment of its next go-live. A generation's
# go-live never changes: any change that could move it starts a new generation.
_seen = (None, NEVER_BEFORE)
# Without the page cache, Cache-Control still needs the next go-live. This process keeps the
# moment it found for a few seconds (until then, or until its own next save), so a page costs
# no queries for it. A go-live scheduled meanwhile in another process can be missed for those
# seconds: a page then keeps its usual max-age, as it does when a live feature is edited.
GO_LIVE_MEMO_SECONDS = 5
_go_live_memo = (0.0, None)  # (until, on time.monotonic(); the moment or None)
_go_live_forgotten = 0  # how many times it was forgotten: a lookup that overlapped is not kept
_go_live_lock = threading.Lock()


def bump(**kwargs):
    """
    Empty the page cache everywhere: public content has changed. It happens when the
    change is committed: emptied any earlier, a reader's request could store the old page
    again under the new generation.
    """
    forget_go_live()
    transaction.on_commit(_next_generation, robust=True)


def _next_generation():
    forget_go_live()
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


def remembered_go_live():
    """next_go_live(), as this process found it in the last few seconds."""
    global _go_live_memo
    until, moment = _go_live_memo
    clock = time.monotonic()
    if clock < until and (moment is None or moment > timezone.now()):
        return moment
    forgotten = _go_live_forgotten
    moment = next_go_live()
    with _go_live_lock:
        if forgotten == _go_live_forgotten:
            # Kept only if no save was committed in this process while this thread was
            # looking (gunicorn runs several threads a process): it may have moved the moment.
            _go_live_memo = (clock + GO_LIVE_MEMO_SECONDS, moment)
    return moment


def forget_go_live():
    global _go_live_memo, _go_live_forgotten
    with _go_live_lock:
        _go_live_forgotten += 1
        _go_live_memo = (0.0, None)


def go_live_of(generation):
    """The moment (a timestamp, or NEVER_BEFORE) of the generation's next go-live."""
    key = f"pages:{generation}:next-go-live"
    go_live = cache.get(key)
    if go_live is None:
        moment = next_go_live()
        go_live = moment.timestamp() if moment else NEVER_BEFORE
        cache.set(key, go_live, timeout=settings.NEWSROOM["PAGE_CACHE_SECONDS"])
    return go_live


def connect():
    """Listen to every model whose changes can show on a public page."""
    from taggit.models import Tag

    from .models import Author, Byline, Download, DownloadVersion, Feature, Section, TaggedFeature

    post_save.connect(feature_saved, sender=Feature, dispatch_uid="pages-feature-saved")
    post_delete.connect(bump, sender=Feature, dispatch_uid="pages-feature-deleted")
    m2m_changed.connect(
        bump, sender=Feature.downloads.through, dispatch_uid="pages-feature-downloads"
    )
    for model in (Byline, Download, DownloadVersion, Section, Author, Tag, TaggedFeature):
        for signal in (post_save, post_delete):
            signal.connect(bump, sender=model, dispatch_uid=f"pages-{model.__name__}-{signal}")


class Lookup:
    """
    What the cache holds for one request: its key, how long it may be kept, the page, and
    the generation's next go-live (a timestamp, or NEVER_BEFORE).
    """

    __slots__ = ("go_live", "key", "stored", "timeout")

    def __init__(self, key=None, timeout=0, stored=None, go_live=NEVER_BEFORE):
        self.key, self.timeout, self.stored, self.go_live = key, timeout, stored, go_live


# Put in the environ by the WSGI front (CachedPagesApp) so the middleware does not ask again.
LOOKED_UP = "newsroom.page_cache"
UNAVAILABLE = Lookup()  # the cache could not be reached
# A cache that failed is left alone for this long, so a slow or dead Redis costs one timeout
# every few seconds in each process, not one on every request.
REST_SECONDS = 5
_resting_until = 0.0


def guarded_lookup(environ):
    """(lookup, error): UNAVAILABLE with the error if the cache fails, or at once while resting."""
    if time.monotonic() < _resting_until:
        return UNAVAILABLE, None
    try:
        return lookup(environ), None
    except CACHE_ERRORS as error:
        rest()
        return UNAVAILABLE, error


def rest():
    global _resting_until
    _resting_until = time.monotonic() + REST_SECONDS


def forget():
    """This process's memory of the cache (the tests start each case afresh)."""
    global _seen, _resting_until
    _seen, _resting_until = (None, NEVER_BEFORE), 0.0
    forget_go_live()


def public_request(environ, methods=("GET", "HEAD")):
    """A request for a public page, by someone without a session."""
    return (
        environ.get("REQUEST_METHOD") in methods
        and not environ.get("PATH_INFO", "").startswith(NEVER_CACHED)
        and not has_session(environ)
    )


def readable_from_cache(environ):
    """An anonymous GET of a public page: one that may be served from the cache and fill it."""
    return settings.NEWSROOM["PAGE_CACHE"] and public_request(environ, methods=("GET",))


def has_session(environ):
    """Anyone with a session may be staff: they never read from or write to the cache."""
    cookies = environ.get("HTTP_COOKIE", "")
    return settings.SESSION_COOKIE_NAME in cookies and (
        settings.SESSION_COOKIE_NAME in parse_cookie(cookies)
    )


def address(environ):
    """
    The whole address asked for, read from the environ the same way before Django (the
    WSGI front) and inside it (the middleware): pages carry absolute links for the scheme
    and host asked for. Django has checked the host against ALLOWED_HOSTS before any page
    is stored, so an address with a host it refuses is never found.
    """
    scheme = environ.get("wsgi.url_scheme", "http")
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure = settings.SECURE_PROXY_SSL_HEADER
        if environ.get(header) is not None:
            scheme = "https" if environ[header].split(",", 1)[0].strip() == secure else "http"
    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}"
    if settings.USE_X_FORWARDED_HOST and environ.get("HTTP_X_FORWARDED_HOST"):
        host = environ["HTTP_X_FORWARDED_HOST"]
    return f"{scheme}://{host}{environ.get('PATH_INFO', '')}?{environ.get('QUERY_STRING', '')}"


def lookup(environ):
    """
    The page stored for this request, if any. In the steady state this is one round trip
    to the cache: the current generation is fetched together with the page filed under the
    generation this process saw last, and the page is used only if the two agree.
    """
    global _seen
    seen, go_live = _seen
    variant = "page" if "text/html" in environ.get("HTTP_ACCEPT", "") else "data"
    digest = hashlib.sha256(address(environ).encode("utf-8", "surrogateescape")).hexdigest()

    def key_for(generation):
        return f"pages:{generation}:{variant}:{digest}"

    found = cache.get_many([GENERATION, key_for(seen)] if seen else [GENERATION])
    generation = found.get(GENERATION)
    if generation is None:
        _next_generation()
        generation = cache.get(GENERATION)
        if generation is None:
            return Lookup()
    if generation == seen:
        stored = found.get(key_for(generation))
    else:
        go_live = go_live_of(generation)
        _seen = (generation, go_live)
        stored = cache.get(key_for(generation))
    now = timezone.now().timestamp()
    if go_live and go_live <= now:
        # A scheduled item has just gone live: every page may show it.
        _next_generation()
        return Lookup()
    timeout = settings.NEWSROOM["PAGE_CACHE_SECONDS"]
    if go_live:
        timeout = max(1, min(timeout, int(go_live - now)))
    return Lookup(key_for(generation), timeout, stored, go_live)


# What a 304 keeps of the page's headers (RFC 9110, 15.4.5), as Django's own 304s do.
NOT_MODIFIED_KEEPS = {"cache-control", "content-location", "date", "etag", "expires",
                      "last-modified", "vary"}  # fmt: skip


def answer(environ, found):
    """
    The stored page as (status, headers, body): its max-age cut to what is left before the
    next go-live, or a 304 when the reader already has it.
    """
    status, headers, body = found.stored
    headers = [(name, value) for name, value in headers]
    for index, (name, value) in enumerate(headers):
        if name == "Cache-Control" and "max-age=" in value:
            stored = int(value.split("max-age=")[1].split(",")[0])
            if found.timeout < stored:
                value = value.replace(f"max-age={stored}", f"max-age={found.timeout}")
                headers[index] = (name, value)
    headers.append(("X-Cache", "hit"))
    if not_modified(environ, headers):
        return 304, [(n, v) for n, v in headers if n.lower() in NOT_MODIFIED_KEEPS], b""
    return status, headers, body


def not_modified(environ, headers):
    """If-None-Match, else If-Modified-Since, against the stored page (RFC 9110, 13.2.2)."""
    values = {name.lower(): value for name, value in headers}
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:
        etag = values.get("etag")
        if not etag:
            return False
        wanted = {tag.removeprefix("W/") for tag in parse_etags(if_none_match)}
        return "*" in wanted or etag.removeprefix("W/") in wanted
    since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if since and values.get("last-modified"):
        since, modified = parse_http_date_safe(since), parse_http_date_safe(values["last-modified"])
        return since is not None and modified is not None and modified <= since
    return False


class CachedPagesApp:
    """
    The WSGI front of the page cache: a stored page goes back to an anonymous reader before
    Django builds a request, runs its middleware or sends its signals, so a page from the
    cache costs little more than a static file. Everything else, misses included, goes on to
    Django, whose PublicPageCacheMiddleware stores pages and serves the same hits under the
    test client and runserver.
    """

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        if readable_from_cache(environ):
            try:
                found, error = guarded_lookup(environ)
            except Exception:  # the database, finding the next go-live: Django will answer
                logger.exception("Page cache lookup failed; the request goes on to Django")
            else:
                if found.stored is not None:
                    status, headers, body = answer(environ, found)
                    start_response(f"{status} {HTTPStatus(status).phrase}", headers)
                    return [body]
                environ[LOOKED_UP] = (found, error)  # the middleware logs any error
        return self.application(environ, start_response)


class PublicPageCacheMiddleware:
    """
    Serve anonymous GETs of public pages and feeds from the shared cache, and store them.
    First in MIDDLEWARE, so what is stored is the page as it leaves Django, every header
    (security, CSP, ETag) included.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        environ = request.META
        if not readable_from_cache(environ):
            response = self.get_response(request)
            self.add_cache_control(request, response, None)
            return response
        found, error = environ.get(LOOKED_UP) or guarded_lookup(environ)
        if error is not None:
            logger.error("Page cache unavailable, serving from the database: %s", error)
        if found.stored is not None:
            status, headers, body = answer(environ, found)
            response = HttpResponse(body, status=status)
            for name, value in headers:
                response[name] = value
            return response
        response = self.get_response(request)
        self.add_cache_control(request, response, found)
        if found.key and self.cacheable_response(response):
            response["X-Cache"] = "miss"
            try:
                cache.set(found.key, self.freeze(response), timeout=found.timeout)
            except CACHE_ERRORS as error:
                rest()
                logger.error("Could not store a page in the cache: %s", error)
        return response

    def add_cache_control(self, request, response, found):
        """
        Public pages tell browsers and CDNs how long they may keep them, cache or no cache,
        and never past the next go-live: the cache's lookup knows it for its generation.
        """
        if "Cache-Control" in response or not public_request(request.META):
            return
        if not self.cacheable_response(response):
            return
        if found is not None and found.key:
            go_live = found.go_live or None
        else:
            moment = remembered_go_live()
            go_live = moment.timestamp() if moment else None
        max_age = settings.NEWSROOM["PAGE_MAX_AGE"]
        if go_live:
            max_age = max(0, min(max_age, int(go_live - timezone.now().timestamp())))
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
    def freeze(response):
        """The page as stored: its status, headers (X-Cache set anew) and body."""
        headers = [(name, value) for name, value in response.items() if name != "X-Cache"]
        return (response.status_code, headers, response.content)
