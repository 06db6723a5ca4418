"""The page cache's WSGI front: stored pages go back to readers before Django runs."""

import contextlib
import io
import sys
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext

from features import caching, workflow
from features.caching import CachedPagesApp
from features.models import Status
from newsroom.wsgi import django_application
from tests.conftest import CACHE_DOWN
from tests.factories import make_author, make_feature, make_section, make_user


def environ(path, **headers):
    path, _, query = path.partition("?")
    return {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "HTTP_HOST": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr,
        **{f"HTTP_{name.upper()}": value for name, value in headers.items()},
    }  # fmt: skip


@contextlib.contextmanager
def keeping_the_test_connection():
    """As Django's test client does: a request's end must not close the test's connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def call(application, environ_, start_response):
    with keeping_the_test_connection():
        body = application(environ_, start_response)
        content = b"".join(body)
        if hasattr(body, "close"):
            body.close()
    return content


class Django:
    """Django's own WSGI handler, counting the requests that reach it."""

    def __init__(self):
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return django_application(environ, start_response)


@pytest.mark.page_cache
@override_settings(ALLOWED_HOSTS=["127.0.0.1"])
class CachedPagesAppTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.section = make_section("News")
        cls.author = make_author("Ann Lee")
        make_feature("Orchard open day", section=cls.section, authors=[cls.author])

    def setUp(self):
        self.django = Django()
        self.front = CachedPagesApp(self.django)

    def get(self, path, **headers):
        answer = {}

        def start_response(status, response_headers, exc_info=None):
            answer["status"] = int(status.split()[0])
            answer["headers"] = dict(response_headers)

        content = call(self.front, environ(path, **headers), start_response)
        return answer["status"], answer["headers"], content

    def test_a_stored_page_goes_back_without_django_or_the_database(self):
        status, first, page = self.get("/features/")
        assert (status, first["X-Cache"], self.django.calls) == (200, "miss", 1)
        with CaptureQueriesContext(connection) as queries:
            status, headers, again = self.get("/features/")
        assert status == 200 and again == page and b"Orchard open day" in again
        assert headers["X-Cache"] == "hit"
        assert self.django.calls == 1 and len(queries) == 0
        # The page as it left Django: security headers, CSP, validators and all.
        for name in ["Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy",
                     "ETag", "Cache-Control", "Content-Type", "Content-Length"]:  # fmt: skip
            assert headers[name] == first[name], name

    def test_a_reader_who_has_the_page_gets_304_from_the_front(self):
        _status, first, _page = self.get("/feeds/latest.rss")
        status, headers, body = self.get("/feeds/latest.rss", IF_NONE_MATCH=first["ETag"])
        assert (status, body) == (304, b"")
        assert headers["ETag"] == first["ETag"] and "Content-Length" not in headers
        assert self.django.calls == 1
        status, _headers, body = self.get("/feeds/latest.rss", IF_NONE_MATCH='"other"')
        assert status == 200 and body
        assert self.django.calls == 1
        since = first["Last-Modified"]
        assert self.get("/feeds/latest.rss", IF_MODIFIED_SINCE=since)[0] == 304

    def test_weak_and_star_validators_match_as_rfc_9110_says(self):
        _status, first, _page = self.get("/feeds/latest.rss")
        weak = "W/" + first["ETag"]
        assert self.get("/feeds/latest.rss", IF_NONE_MATCH=weak)[0] == 304
        assert self.get("/feeds/latest.rss", IF_NONE_MATCH=f'"x", {first["ETag"]}')[0] == 304
        assert self.get("/feeds/latest.rss", IF_NONE_MATCH="*")[0] == 304
        # If-None-Match decides when both are sent: a different tag means a full answer.
        both = self.get(
            "/feeds/latest.rss", IF_NONE_MATCH='"other"', IF_MODIFIED_SINCE=first["Last-Modified"]
        )
        assert both[0] == 200 and both[2]
        assert self.django.calls == 1

    def test_a_change_made_by_another_process_empties_this_ones_view(self):
        from features.caching import GENERATION

        assert self.get("/")[1]["X-Cache"] == "miss"
        assert self.get("/")[1]["X-Cache"] == "hit"
        cache.incr(GENERATION)  # what another app server does when content changes
        assert self.get("/")[1]["X-Cache"] == "miss"
        assert self.django.calls == 2

    def test_a_database_error_in_the_front_goes_on_to_django(self):
        # The database fails once, in the front; by the time Django asks, it answers.
        failing_once = [RuntimeError("database unavailable"), caching.NEVER_BEFORE]
        with mock.patch("features.caching.go_live_of", side_effect=failing_once), \
                self.assertLogs("features.caching", level="ERROR") as logs:  # fmt: skip
            status, _headers, page = self.get("/")
        assert status == 200 and b"Orchard open day" in page and self.django.calls == 1
        assert "the request goes on to Django" in logs.output[0]

    def test_one_round_trip_to_the_cache_for_a_stored_page(self):
        self.get("/")
        self.get("/")  # this process has now seen the generation
        with mock.patch("features.caching.cache", mock.Mock(wraps=cache)) as calls:
            assert self.get("/")[1]["X-Cache"] == "hit"
        assert [call[0] for call in calls.method_calls] == ["get_many"]

    def test_anyone_with_a_session_goes_to_django(self):
        self.get("/")
        status, headers, _page = self.get("/", COOKIE="sessionid=abc")
        assert status == 200 and "X-Cache" not in headers
        assert self.django.calls == 2

    def test_a_publication_shows_at_the_next_request(self):
        draft = make_feature("Orchard harvest", section=self.section, authors=[self.author],
                             status=Status.DRAFT)  # fmt: skip
        assert b"Orchard harvest" not in self.get("/")[2]
        assert self.get("/")[1]["X-Cache"] == "hit"
        with self.captureOnCommitCallbacks(execute=True):
            workflow.publish(draft, by=make_user(group="Editors"))
        _status, headers, page = self.get("/")
        assert b"Orchard harvest" in page and headers["X-Cache"] == "miss"

    def test_admin_static_and_posts_are_never_looked_up(self):
        with mock.patch.object(cache, "get_many") as get_many:
            self.get("/admin/login/")
            self.get("/healthz")
            self.get("/static/css/site.css")
            post = environ("/search/")
            post["REQUEST_METHOD"] = "POST"
            call(self.front, post, lambda *args: None)
        assert get_many.call_count == 0 and self.django.calls == 4


@pytest.mark.page_cache
@override_settings(ALLOWED_HOSTS=["127.0.0.1"], CACHES=CACHE_DOWN)
class FrontWithTheCacheDownTests(TestCase):
    def test_pages_come_from_the_database_and_the_failure_is_logged_once(self):
        make_feature("Still here", section=make_section("News"), authors=[make_author()])
        django = Django()
        answer = {}
        with self.assertLogs("features.caching", level="ERROR") as logs:
            front = CachedPagesApp(django)
            body = call(front, environ("/"), lambda status, _headers: answer.update(status=status))
        assert answer["status"].startswith("200") and b"Still here" in body
        assert django.calls == 1
        assert len([line for line in logs.output if "unavailable" in line]) == 1

    def test_a_dead_cache_is_left_alone_for_a_few_seconds(self):
        make_feature("Still here", section=make_section("News"), authors=[make_author()])
        front = CachedPagesApp(Django())
        with mock.patch("features.caching.lookup", wraps=caching.lookup) as tries, \
                self.assertLogs("features.caching", level="ERROR") as logs:  # fmt: skip
            for _ in range(3):
                body = call(front, environ("/"), lambda status, _headers: None)
                assert b"Still here" in body
        assert tries.call_count == 1  # one timeout, then the database alone
        assert len(logs.output) == 1
        with mock.patch("features.caching.time.monotonic", return_value=10**9), \
                mock.patch("features.caching.lookup", wraps=caching.lookup) as tries, \
                self.assertLogs("features.caching", level="ERROR"):  # fmt: skip
            call(front, environ("/"), lambda status, _headers: None)
        assert tries.call_count == 1  # after the rest it is tried again
