import time
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from features import caching, workflow
from features.models import Feature, Status
from tests.conftest import CACHE_DOWN
from tests.factories import make_author, make_feature, make_section, make_user

PAGES = [
    "/", "/features/", "/sections/news/", "/authors/ann-lee/", "/tags/orchards/",
    "/search/?q=orchard", "/feeds/", "/feeds/latest.rss", "/feeds/latest.atom",
    "/feeds/sections/news.rss", "/feeds/tags/orchards.rss", "/feeds/authors/ann-lee.atom",
    "/sitemap.xml",
]  # fmt: skip


def everything_cached():
    """The raw bytes of every value in the default cache (local memory or Redis)."""
    from django.core.cache import cache

    if hasattr(cache, "_cache") and isinstance(cache._cache, dict):
        return list(cache._cache.values())
    client = cache._cache.get_client()
    return [client.get(key) for key in client.keys("*")]


@pytest.mark.page_cache
class PageCacheTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = make_user(group="Editors")
        cls.section = make_section("News")
        cls.author = make_author("Ann Lee")
        cls.live = make_feature(
            "Orchard open day", section=cls.section, authors=[cls.author], tags=["Orchards"]
        )

    def get(self, url, **extra):
        return self.client.get(url, **extra)

    def warm(self):
        for url in PAGES:
            assert self.get(url).status_code == 200, url

    def test_second_anonymous_request_is_served_from_the_cache_without_queries(self):
        first = self.get("/")
        assert first["X-Cache"] == "miss"
        with CaptureQueriesContext(connection) as queries:
            second = self.get("/")
        assert second["X-Cache"] == "hit"
        assert second.content == first.content
        assert len(queries) == 0

    def test_publishing_shows_on_every_page_at_the_next_request(self):
        draft = make_feature(
            "Orchard harvest", section=self.section, authors=[self.author],
            tags=["Orchards"], status=Status.DRAFT,
        )  # fmt: skip
        self.warm()
        for url in PAGES:
            assert b"Orchard harvest" not in self.get(url).content, url
        # The cache is emptied when the change is committed (here, at the block's end).
        with self.captureOnCommitCallbacks(execute=True):
            workflow.publish(draft, by=self.editor)
        for url in PAGES:
            if url in {"/feeds/", "/sitemap.xml"}:
                continue  # these list sections, tags and addresses, not titles
            with self.subTest(url=url):
                assert b"Orchard harvest" in self.get(url).content
        assert draft.get_absolute_url().encode() in self.get("/sitemap.xml").content

    def test_editing_live_content_shows_at_the_next_request(self):
        self.warm()
        with self.captureOnCommitCallbacks(execute=True):
            self.live.title = "Orchard open day moved"
            self.live.save()
        for url in PAGES:
            if url in {"/feeds/", "/sitemap.xml", "/search/?q=orchard"}:
                continue
            with self.subTest(url=url):
                assert b"Orchard open day moved" in self.get(url).content

    def test_unpublishing_and_withdrawing_remove_it_at_the_next_request(self):
        other = make_feature(
            "Pear pruning", section=self.section, authors=[self.author], tags=["Orchards"]
        )
        for step in ["unpublish", "withdraw"]:
            target = self.live if step == "unpublish" else other
            self.warm()
            for url in ["/", "/features/", "/feeds/latest.rss"]:
                assert target.title.encode() in self.get(url).content
            with self.captureOnCommitCallbacks(execute=True):
                if step == "unpublish":
                    workflow.unpublish(target, by=self.editor)
                else:
                    workflow.withdraw(target, by=self.editor, notice="Out of date.")
            for url in ["/", "/features/", "/feeds/latest.rss", "/sections/news/"]:
                with self.subTest(step=step, url=url):
                    assert target.title.encode() not in self.get(url).content
            expected = 404 if step == "unpublish" else 410
            assert self.get(target.get_absolute_url()).status_code == expected

    def test_a_cached_page_never_outlives_the_next_go_live(self):
        now = timezone.now()
        scheduled = make_feature(
            "Orchard spring fair", section=self.section, authors=[self.author],
            publish_at=now + timedelta(minutes=5),
        )  # fmt: skip
        page = self.get("/")
        assert b"Orchard spring fair" not in page.content
        assert self.get("/")["X-Cache"] == "hit"
        max_age = int(page["Cache-Control"].split("max-age=")[1].split(",")[0])
        assert max_age <= 60
        later = now + timedelta(minutes=6)
        with mock.patch("django.utils.timezone.now", return_value=later):
            response = self.get("/")
        assert b"Orchard spring fair" in response.content
        assert scheduled.pk

    def test_cache_control_stops_at_the_next_go_live(self):
        make_feature(
            "Soon", section=self.section, publish_at=timezone.now() + timedelta(seconds=20)
        )
        response = self.get("/features/")
        max_age = int(response["Cache-Control"].split("max-age=")[1].split(",")[0])
        assert 0 < max_age <= 20

    def test_a_page_missed_in_the_cache_takes_the_go_live_from_the_generation(self):
        make_feature(
            "Soon", section=self.section, publish_at=timezone.now() + timedelta(seconds=40)
        )
        assert self.get("/")["X-Cache"] == "miss"  # finds the generation's go-live
        with CaptureQueriesContext(connection) as queries:
            response = self.get("/features/")
        assert response["X-Cache"] == "miss"
        assert not [q for q in queries if "MIN(" in q["sql"].upper()]
        max_age = int(response["Cache-Control"].split("max-age=")[1].split(",")[0])
        assert 30 <= max_age <= 40

    def test_staff_never_get_cached_pages_and_never_fill_the_cache(self):
        draft = make_feature("Orchard secrets", section=self.section, status=Status.DRAFT,
                             authors=[self.author])  # fmt: skip
        assert self.get("/")["X-Cache"] == "miss"
        assert self.get("/")["X-Cache"] == "hit"  # the page is in the cache...
        self.client.force_login(self.editor)
        staff_page = self.get("/")
        assert "X-Cache" not in staff_page  # ...but staff are not served from it
        from django.core.cache import cache

        cache.clear()
        preview = self.get(draft.get_absolute_url())
        assert b"Preview" in preview.content and "X-Cache" not in preview
        self.client.logout()
        self.client.cookies.clear()
        assert self.get("/")["X-Cache"] == "miss"  # the staff visit stored nothing
        assert self.get(draft.get_absolute_url()).status_code == 404

    def test_drafts_never_enter_the_cache(self):
        draft = make_feature(
            "Orchard rumours", section=self.section, status=Status.DRAFT, authors=[self.author]
        )
        self.client.force_login(self.editor)
        assert self.get(draft.get_absolute_url()).status_code == 200  # a staff preview
        self.client.logout()
        self.client.cookies.clear()
        assert self.get(draft.get_absolute_url()).status_code == 404
        self.warm()
        stored = everything_cached()
        assert len(stored) > len(PAGES)  # the pages are there...
        assert not any(b"Orchard rumours" in value for value in stored)  # ...the draft not

    def test_cached_pages_answer_conditional_requests(self):
        first = self.get("/features/")
        etag = first["ETag"]
        again = self.get("/features/", HTTP_IF_NONE_MATCH=etag)
        assert again.status_code == 304

    def test_feed_variants_for_browsers_and_readers_are_kept_apart(self):
        reader = self.get("/feeds/latest.rss", HTTP_ACCEPT="application/rss+xml")
        browser = self.get("/feeds/latest.rss", HTTP_ACCEPT="text/html,application/xml")
        assert reader["Content-Type"].startswith("application/rss+xml")
        assert browser["Content-Type"].startswith("application/xml")
        assert self.get("/feeds/latest.rss", HTTP_ACCEPT="application/rss+xml")[
            "Content-Type"
        ].startswith("application/rss+xml")

    def test_file_downloads_and_the_admin_are_never_cached(self):
        from tests.factories import make_download

        download = make_download("Map")
        for _ in range(2):
            response = self.client.get(download.get_absolute_url())
            assert "X-Cache" not in response
        download.refresh_from_db()
        assert download.download_count == 2


@pytest.mark.page_cache
@override_settings(CACHES=CACHE_DOWN)
class CacheDownTests(TestCase):
    def test_pages_are_served_from_the_database_and_the_failure_is_logged(self):
        section = make_section("News")
        make_feature("Still here", section=section, authors=[make_author()])
        with self.assertLogs("features.caching", level="ERROR") as logs:
            for url in ["/", "/features/", "/feeds/latest.rss"]:
                response = self.client.get(url)
                assert response.status_code == 200
                assert b"Still here" in response.content
        assert any("serving from the database" in line for line in logs.output)

    def test_saving_content_while_the_cache_is_down_is_logged_not_an_error(self):
        section = make_section("News")
        with self.assertLogs("features.caching", level="ERROR"), \
                self.captureOnCommitCallbacks(execute=True):  # fmt: skip
            feature = make_feature("Saved anyway", section=section)
        assert Feature.objects.filter(pk=feature.pk).exists()


@pytest.mark.page_cache
class CommitOrderTests(TestCase):
    def test_the_cache_is_emptied_only_when_the_change_is_committed(self):
        """A reader between the save and the commit must not store the old page anew."""
        section = make_section("News")
        feature = make_feature("Before", section=section, authors=[make_author()])
        self.client.get("/features/")
        with self.captureOnCommitCallbacks(execute=False) as pending:
            feature.title = "After"
            feature.save()
            # Not yet committed: the cache still holds the page it had.
            assert self.client.get("/features/")["X-Cache"] == "hit"
        assert pending  # the emptying waits for the commit
        for callback in pending:
            callback()
        response = self.client.get("/features/")
        assert response["X-Cache"] == "miss" and b"After" in response.content


class CacheControlWithoutTheCacheTests(TestCase):
    """Pages tell CDNs how long to keep them even when our own cache is off or down."""

    def test_pages_send_cache_control_with_the_page_cache_off(self):
        make_feature("Visible", publish_at=timezone.now() - timedelta(hours=1))
        make_feature("Soon", publish_at=timezone.now() + timedelta(seconds=30))
        for url in ["/", "/features/", "/downloads/"]:
            with self.subTest(url=url):
                response = self.client.get(url)
                max_age = int(response["Cache-Control"].split("max-age=")[1].split(",")[0])
                assert "public" in response["Cache-Control"] and max_age <= 30

    def go_live_queries(self, url):
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(url)
        return len([q for q in queries if "MIN(" in q["sql"].upper()]), response

    def test_the_next_go_live_is_looked_up_once_in_a_few_seconds(self):
        make_feature("Soon", publish_at=timezone.now() + timedelta(seconds=40))
        assert self.go_live_queries("/")[0] == 2  # features and downloads
        asked, response = self.go_live_queries("/features/")
        assert asked == 0
        max_age = int(response["Cache-Control"].split("max-age=")[1].split(",")[0])
        assert 30 <= max_age <= 40
        later = time.monotonic() + caching.GO_LIVE_MEMO_SECONDS + 1
        with mock.patch("features.caching.time.monotonic", return_value=later):
            assert self.go_live_queries("/features/")[0] == 2

    def test_a_save_in_this_process_makes_the_next_page_look_again(self):
        assert self.go_live_queries("/")[0] == 2
        make_feature("Sooner", publish_at=timezone.now() + timedelta(seconds=20))
        asked, response = self.go_live_queries("/")
        max_age = int(response["Cache-Control"].split("max-age=")[1].split(",")[0])
        assert asked == 2 and 10 <= max_age <= 20

    def test_a_lookup_overlapping_a_save_is_not_remembered(self):
        real = caching.next_go_live

        def save_meanwhile():
            moment = real()
            caching.forget_go_live()  # another thread's save, committed during the lookup
            return moment

        with mock.patch("features.caching.next_go_live", side_effect=save_meanwhile):
            assert self.go_live_queries("/")[0] == 2
        assert self.go_live_queries("/")[0] == 2  # looked up again, not taken from memory

    def test_a_remembered_go_live_that_has_passed_is_looked_up_again(self):
        soon = timezone.now() + timedelta(seconds=30)
        make_feature("Soon", publish_at=soon)
        assert self.go_live_queries("/")[0] == 2
        with mock.patch("django.utils.timezone.now", return_value=soon + timedelta(seconds=1)):
            asked, response = self.go_live_queries("/")
        assert asked == 2 and b"Soon" in response.content

    def test_file_downloads_may_not_be_kept_by_any_cache(self):
        from tests.factories import make_download

        response = self.client.get(make_download("Plan").get_absolute_url())
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
