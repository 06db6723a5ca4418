import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from html import unescape
from unittest import mock
from zoneinfo import ZoneInfo

from django.core.cache import caches
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from features import caching, workflow
from features.cards import as_cards
from features.models import DownloadCategory, Feature, Status
from features.statements import forget_all
from tests.factories import (
    features_listed,
    jpeg_bytes,
    make_author,
    make_co_authors,
    make_download,
    make_feature,
    make_section,
    make_user,
)  # fmt: skip

SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def sitemap_locations(client):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    return [loc.text for loc in root.findall(".//sm:loc", SITEMAP_NS)]


class PublicPagesTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.section = make_section("Features", description="Longer reads.")
        cls.gough, cls.masterson = make_co_authors()
        cls.feature = make_feature(
            "Leading on leadership",
            section=cls.section,
            authors=[cls.gough, cls.masterson],
            tags=["Leadership"],
            publish_at=datetime(2009, 3, 25, 9, 0, tzinfo=ZoneInfo("Europe/London")),
            standfirst="What leadership for improvement looks like.",
            body="<p>Leaders hold the space.</p>",
        )
        cls.crossword = make_download(
            "Crossword March", category=DownloadCategory.CROSSWORD, description="A cryptic one."
        )
        cls.feature.downloads.add(cls.crossword)

    def test_home_shows_latest_features_feeds_box_and_crossword(self):
        response = self.client.get("/")
        self.assertContains(response, "Leading on leadership")
        self.assertContains(response, "News feeds")
        self.assertContains(response, f'href="{reverse("feeds:index")}"')
        self.assertContains(response, "Download the crossword")
        self.assertContains(response, f'href="{self.crossword.get_absolute_url()}"')
        self.assertContains(response, "(PDF, 2 pages,")

    def test_home_crossword_box_shows_the_latest_live_crossword_only(self):
        make_download(
            "Future crossword", category=DownloadCategory.CROSSWORD,
            publish_at=timezone.now() + timedelta(days=2),
        )  # fmt: skip
        make_download("Report", category=DownloadCategory.REPORT)
        response = self.client.get("/")
        assert response.context_data["crossword"] == self.crossword

    def test_feature_page_shows_everything_a_reader_needs(self):
        response = self.client.get(self.feature.get_absolute_url())
        self.assertContains(response, "<h1>Leading on leadership</h1>", html=True)
        self.assertContains(response, "25 March 2009")
        self.assertContains(response, "Features")
        self.assertContains(
            response,
            '<a href="/authors/pippa-gough/">Pippa Gough</a> and '
            '<a href="/authors/abigail-masterson/">Abigail Masterson</a>, '
            "Assistant Directors in Clinical Quality at the Health Foundation",
        )
        self.assertContains(response, "What leadership for improvement looks like.")
        self.assertContains(response, "<p>Leaders hold the space.</p>", html=True)
        self.assertContains(response, 'href="/tags/leadership/"')
        self.assertContains(response, "Crossword March")

    def test_feature_page_has_exactly_one_h1_and_landmarks(self):
        html = self.client.get(self.feature.get_absolute_url()).content.decode()
        assert len(re.findall(r"<h1[\s>]", html)) == 1
        assert '<main id="main"' in html and "<header" in html and "<footer" in html
        assert '<a class="skip-link" href="#main">' in html
        assert '<label for="site-search-q">' in html

    def test_feature_page_metadata(self):
        response = self.client.get(self.feature.get_absolute_url())
        url = "http://testserver/features/leading-on-leadership/"
        self.assertContains(response, "<title>Leading on leadership · Newsroom</title>")
        self.assertContains(
            response,
            '<meta name="description" content="What leadership for improvement looks like.">',
        )
        self.assertContains(response, f'<link rel="canonical" href="{url}">')
        self.assertContains(response, '<meta property="og:title" content="Leading on leadership">')
        self.assertContains(response, f'<meta property="og:url" content="{url}">')
        self.assertContains(response, '<meta property="og:type" content="article">')

    def test_feature_page_structured_data_is_a_news_article(self):
        html = self.client.get(self.feature.get_absolute_url()).content.decode()
        match = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
        data = json.loads(match.group(1))
        assert data["@type"] == "NewsArticle"
        assert data["headline"] == "Leading on leadership"
        assert data["datePublished"].startswith("2009-03-25T09:00:00")
        assert [a["name"] for a in data["author"]] == ["Pippa Gough", "Abigail Masterson"]
        assert data["mainEntityOfPage"] == "http://testserver/features/leading-on-leadership/"

    def test_structured_data_cannot_break_out_of_its_script(self):
        feature = make_feature("</script><script>alert(1)</script>", section=self.section, slug="x")
        html = self.client.get(feature.get_absolute_url()).content.decode()
        script = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
        assert "alert(1)" in json.loads(script.group(1))["headline"]
        assert "<script>alert(1)" not in html

    def test_hero_image_has_alt_text_and_dimensions(self):
        feature = make_feature("With image", section=self.section, hero_image_alt="A ward at dawn")
        from django.core.files.base import ContentFile

        feature.hero_image.save("ward.jpg", ContentFile(jpeg_bytes((64, 48))), save=True)
        response = self.client.get(feature.get_absolute_url())
        self.assertContains(response, 'alt="A ward at dawn"')
        self.assertContains(response, 'width="64" height="48"')

    def test_section_author_and_tag_pages_list_the_feature(self):
        for url in ["/sections/features/", "/authors/pippa-gough/", "/tags/leadership/"]:
            with self.subTest(url=url):
                self.assertContains(self.client.get(url), "Leading on leadership")

    def test_author_page_names_their_role(self):
        response = self.client.get("/authors/pippa-gough/")
        self.assertContains(
            response, "Assistant Director in Clinical Quality at the Health Foundation"
        )

    def test_feature_list_is_newest_first(self):
        newer = make_feature("Newer", section=self.section)
        features = features_listed(self.client.get("/features/"))
        assert features[:2] == [newer, self.feature]

    def test_downloads_page_lists_live_downloads_with_what_you_get(self):
        response = self.client.get("/downloads/")
        self.assertContains(response, "Crossword March")
        self.assertContains(response, "(PDF, 2 pages,")

    def test_download_serves_the_file_as_an_attachment_and_counts_it(self):
        response = self.client.get(self.crossword.get_absolute_url())
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert b"".join(response.streaming_content).startswith(b"%PDF-")
        self.crossword.refresh_from_db()
        assert self.crossword.download_count == 1

    def test_download_without_accessible_format_offers_a_contact(self):
        response = self.client.get("/downloads/")
        self.assertContains(response, "Ask for an accessible format")

    def test_search_finds_title_standfirst_and_body(self):
        for query in ["leading", "improvement", "hold the space"]:
            with self.subTest(query=query):
                response = self.client.get("/search/", {"q": query})
                assert features_listed(response) == [self.feature]

    def test_download_answers_head_without_counting_it(self):
        response = self.client.head(self.crossword.get_absolute_url())
        assert response.status_code == 200
        self.crossword.refresh_from_db()
        assert self.crossword.download_count == 0

    def test_unicode_tags_get_ascii_addresses(self):
        feature = make_feature("Café culture", section=self.section, tags=["Café", "Zürich"])
        response = self.client.get(feature.get_absolute_url())
        assert response.status_code == 200
        self.assertContains(response, 'href="/tags/cafe/"')
        assert self.client.get("/tags/cafe/").status_code == 200
        assert self.client.get("/feeds/").status_code == 200

    def test_search_does_not_match_html_markup(self):
        response = self.client.get("/search/", {"q": "<p>"})
        assert list(response.context_data["features"]) == []

    def test_robots_txt_points_to_the_sitemap(self):
        response = self.client.get("/robots.txt")
        assert response["Content-Type"].startswith("text/plain")
        assert "Sitemap: http://testserver/sitemap.xml" in response.content.decode()
        assert "Disallow: /admin/" in response.content.decode()

    def test_sitemap_lastmod_is_never_before_publication(self):
        feature = make_feature("Went live untouched", section=self.section)
        Feature.objects.filter(pk=feature.pk).update(
            updated_at=timezone.now() - timedelta(days=5),
            publish_at=timezone.now() - timedelta(hours=1),
        )
        root = ET.fromstring(self.client.get("/sitemap.xml").content)
        for url in root.findall("sm:url", SITEMAP_NS):
            if url.find("sm:loc", SITEMAP_NS).text.endswith(feature.get_absolute_url()):
                lastmod = url.find("sm:lastmod", SITEMAP_NS).text
                assert lastmod[:10] == timezone.now().date().isoformat()
                break
        else:
            raise AssertionError("feature missing from the sitemap")

    def test_sitemap_lists_live_features_with_lastmod(self):
        response = self.client.get("/sitemap.xml")
        root = ET.fromstring(response.content)
        urls = {
            url.find("sm:loc", SITEMAP_NS).text: url.find("sm:lastmod", SITEMAP_NS)
            for url in root.findall("sm:url", SITEMAP_NS)
        }
        feature_url = "http://testserver/features/leading-on-leadership/"
        assert feature_url in urls
        assert urls[feature_url] is not None and urls[feature_url].text.startswith("20")
        assert "http://testserver/sections/features/" in urls

    def test_friendly_404_page(self):
        response = self.client.get("/features/no-such-feature/")
        assert response.status_code == 404
        self.assertContains(response, "Page not found", status_code=404)
        self.assertContains(response, "Go to the home page", status_code=404)

    def test_unknown_addresses_of_a_tag_section_or_author_are_404(self):
        for url in ["/tags/no-such-tag/", "/sections/no-such-section/", "/authors/nobody/"]:
            with self.subTest(url=url):
                self.assertContains(self.client.get(url), "Page not found", status_code=404)

    def test_500_page_renders_without_a_request_context(self):
        from django.template.loader import render_to_string

        html = render_to_string("500.html")
        assert "Sorry, something went wrong" in html


class BadInputTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.section = make_section("News")
        cls.author = make_author("Ann Lee")
        for number in range(15):
            make_feature(f"Story {number}", section=cls.section, authors=[cls.author], tags=["t"])

    def test_non_numeric_page_is_404(self):
        for url in [
            "/features/",
            "/sections/news/",
            "/authors/ann-lee/",
            "/tags/t/",
            "/downloads/",
        ]:
            with self.subTest(url=url):
                assert self.client.get(url, {"page": "abc"}).status_code == 404

    def test_page_past_the_end_is_404(self):
        assert self.client.get("/features/", {"page": "999"}).status_code == 404
        assert self.client.get("/features/", {"page": "0"}).status_code == 404
        assert self.client.get("/features/", {"page": "-1"}).status_code == 404
        # Far past any archive: an OFFSET the database would refuse is never asked for.
        huge = "99999999999999999999"
        for path, query in [
            ("/features/", {}), ("/sections/news/", {}), ("/authors/ann-lee/", {}),
            ("/tags/t/", {}), ("/downloads/", {}), ("/search/", {"q": "story"}),
        ]:  # fmt: skip
            with self.subTest(path=path):
                assert self.client.get(path, {**query, "page": huge}).status_code == 404

    def test_last_page_is_reachable(self):
        response = self.client.get("/features/", {"page": "last"})
        assert response.status_code == 200
        assert response.context_data["page_obj"].number == 2

    def test_unknown_slugs_are_404(self):
        for url in [
            "/features/nope/", "/sections/nope/", "/authors/nope/", "/tags/nope/",
            "/downloads/nope/", "/feeds/sections/nope.rss", "/feeds/tags/nope.atom",
            "/feeds/authors/nope.rss",
        ]:  # fmt: skip
            with self.subTest(url=url):
                assert self.client.get(url).status_code == 404

    def test_search_escapes_what_it_echoes(self):
        query = '<script>alert("x")</script> & "quotes"'
        response = self.client.get("/search/", {"q": query})
        assert response.status_code == 200
        html = response.content.decode()
        assert "<script>alert" not in html
        # Escaped wherever it is echoed (the heading, the search boxes' values), and read
        # back by a browser as exactly what was typed.
        echoed = re.findall(r'value="([^"]*)"|for “([^”]*)”', html)
        echoed = [value or text for value, text in echoed]
        assert len(echoed) >= 3
        assert {unescape(text) for text in echoed} == {query}

    def test_search_answers_a_very_long_query(self):
        response = self.client.get("/search/", {"q": "story " * 5000})
        assert response.status_code == 200
        assert len(response.context_data["query"]) <= 200

    def test_search_with_odd_characters_answers(self):
        for query in ["%", "_", "\\", "' OR 1=1 --", "ñandú 東京", "\x00", "a" * 300]:
            with self.subTest(query=query):
                assert self.client.get("/search/", {"q": query}).status_code == 200

    def test_empty_search_shows_the_form_only(self):
        response = self.client.get("/search/", {"q": "   "})
        assert response.status_code == 200
        assert list(response.context_data["features"]) == []
        self.assertNotContains(response, "result")

    def test_search_pagination_keeps_the_query(self):
        response = self.client.get("/search/", {"q": "story"})
        self.assertContains(response, "?q=story&amp;page=2")


class DraftsNeverLeakTests(TestCase):
    """Nothing that is not live appears on any public page, feed, sitemap or search."""

    @classmethod
    def setUpTestData(cls):
        cls.section = make_section("News")
        cls.guest = make_author("Guest Writer")
        cls.live_author = make_author("Live Writer")
        make_feature("Visible story", section=cls.section, authors=[cls.live_author], tags=["open"])
        cls.hidden = {
            "draft": make_feature(
                "Secret draft", section=cls.section, status=Status.DRAFT,
                authors=[cls.guest], tags=["hush"],
            ),
            "in_review": make_feature(
                "Secret review", section=cls.section, status=Status.IN_REVIEW, authors=[cls.guest]
            ),
            "scheduled": make_feature(
                "Secret scheduled", section=cls.section, authors=[cls.guest],
                publish_at=timezone.now() + timedelta(days=3),
            ),
            "withdrawn": make_feature(
                "Secret withdrawn", section=cls.section, status=Status.WITHDRAWN,
                authors=[cls.guest],
            ),
        }  # fmt: skip
        cls.hidden_download = make_download("Secret download", status=Status.DRAFT)
        cls.scheduled_download = make_download(
            "Secret timed download", publish_at=timezone.now() + timedelta(days=1)
        )

    public_urls = [
        "/", "/features/", "/sections/news/", "/authors/live-writer/", "/tags/open/",
        "/downloads/", "/search/?q=secret", "/feeds/", "/feeds/latest.rss",
        "/feeds/latest.atom", "/feeds/sections/news.rss", "/feeds/sections/news.atom",
        "/feeds/downloads.rss", "/sitemap.xml",
    ]  # fmt: skip

    def test_hidden_items_are_absent_from_every_public_page(self):
        for url in self.public_urls:
            with self.subTest(url=url):
                response = self.client.get(url)
                assert response.status_code == 200
                body = response.content.decode()
                assert "Secret" not in body
                assert "Guest Writer" not in body and "hush" not in body

    def test_hidden_features_are_404_at_their_own_url_and_withdrawn_is_410(self):
        for state, feature in self.hidden.items():
            with self.subTest(state=state):
                expected = 410 if state == "withdrawn" else 404
                response = self.client.get(feature.get_absolute_url())
                assert response.status_code == expected
                if state != "withdrawn":
                    assert b"Secret" not in response.content

    def test_withdrawn_page_carries_a_dated_notice(self):
        feature = self.hidden["withdrawn"]
        Feature.objects.filter(pk=feature.pk).update(withdrawal_notice="It contained an error.")
        response = self.client.get(feature.get_absolute_url())
        self.assertContains(response, "This feature has been withdrawn", status_code=410)
        self.assertContains(response, "It contained an error.", status_code=410)
        self.assertContains(response, feature.withdrawn_at.strftime("%Y-%m-%d"), status_code=410)

    def test_author_and_tag_of_hidden_features_only_are_404_on_pages_and_feeds(self):
        for url in [
            "/authors/guest-writer/", "/tags/hush/",
            "/feeds/authors/guest-writer.rss", "/feeds/authors/guest-writer.atom",
            "/feeds/tags/hush.rss", "/feeds/tags/hush.atom",
        ]:  # fmt: skip
            with self.subTest(url=url):
                response = self.client.get(url)
                assert response.status_code == 404
                assert b"Guest Writer" not in response.content and b"hush" not in response.content

    def test_no_page_of_an_author_or_tag_of_hidden_features_only_is_shown(self):
        # Their pages are missing because their first page is empty: so is every other.
        draft = self.hidden["draft"]
        cursor = f"{int(draft.publish_at.timestamp() * 1_000_000) if draft.publish_at else 0}-0"
        later = f"{int((timezone.now() + timedelta(days=30)).timestamp() * 1_000_000)}-0"
        for path in ["/authors/guest-writer/", "/tags/hush/"]:
            for query in [
                {"page": "2"}, {"page": "last"}, {"before": later}, {"after": cursor},
                {"after": "0-0"},
            ]:  # fmt: skip
                with self.subTest(path=path, query=query):
                    response = self.client.get(path, query)
                    assert response.status_code == 404
                    assert b"Secret" not in response.content

    def test_a_draft_download_is_not_shown_on_a_live_feature(self):
        visible = Feature.objects.get(title="Visible story")
        visible.downloads.add(self.hidden_download, self.scheduled_download)
        response = self.client.get(visible.get_absolute_url())
        assert response.status_code == 200
        self.assertNotContains(response, "Secret")

    def test_hidden_downloads_are_404(self):
        for download in [self.hidden_download, self.scheduled_download]:
            with self.subTest(download=download.title):
                assert self.client.get(download.get_absolute_url()).status_code == 404

    def test_hidden_features_are_absent_from_the_sitemap(self):
        locations = sitemap_locations(self.client)
        for feature in self.hidden.values():
            assert f"http://testserver{feature.get_absolute_url()}" not in locations

    def test_publishing_makes_the_draft_appear_everywhere(self):
        editor = make_user(group="Editors")
        draft = self.hidden["draft"]
        workflow.publish(draft, by=editor)
        for url in ["/", "/features/", "/sections/news/", "/search/?q=secret", "/feeds/latest.rss"]:
            with self.subTest(url=url):
                self.assertContains(self.client.get(url), "Secret draft")
        assert self.client.get(draft.get_absolute_url()).status_code == 200
        assert self.client.get("/authors/guest-writer/").status_code == 200
        assert self.client.get("/tags/hush/").status_code == 200
        assert f"http://testserver{draft.get_absolute_url()}" in sitemap_locations(self.client)

    def test_scheduled_feature_appears_once_its_time_has_come(self):
        scheduled = self.hidden["scheduled"]
        Feature.objects.filter(pk=scheduled.pk).update(
            publish_at=timezone.now() - timedelta(seconds=1)
        )
        self.assertContains(self.client.get("/features/"), "Secret scheduled")
        assert self.client.get(scheduled.get_absolute_url()).status_code == 200


class TimeOfEachRequestTests(TestCase):
    """
    Lists, a feature's page, search and the feeds run queries compiled once per process
    (features/statements.py): each run asks with its own request's time, so a scheduled
    feature or download arrives at its time, and never before, whenever they were compiled.
    """

    @classmethod
    def setUpTestData(cls):
        section = make_section("News")
        live_writer, guest = make_author("Live Writer"), make_author("Guest Writer")
        make_feature("Visible story", section=section, authors=[live_writer], tags=["open"],
                     publish_at=timezone.now() - timedelta(days=10))  # fmt: skip
        cls.scheduled = make_feature(
            "Secret scheduled", section=section, authors=[guest], tags=["open", "hush"],
            publish_at=timezone.now() + timedelta(days=3),
        )  # fmt: skip
        make_download("Old crossword", category=DownloadCategory.CROSSWORD,
                      publish_at=timezone.now() - timedelta(days=10))  # fmt: skip
        make_download("Secret crossword", category=DownloadCategory.CROSSWORD,
                      publish_at=timezone.now() + timedelta(days=2))  # fmt: skip

    later = timezone.now() + timedelta(days=4)
    far = f"{int((timezone.now() + timedelta(days=30)).timestamp() * 1_000_000)}-0"
    # Each shows the scheduled feature (or the crossword) once its time has come.
    lists = [
        "/", "/features/", f"/features/?before={far}", "/sections/news/", "/tags/open/",
        f"/tags/open/?before={far}", "/search/?q=secret", "/feeds/latest.rss",
        "/feeds/sections/news.atom", "/feeds/tags/open.rss", "/feeds/downloads.rss",
    ]  # fmt: skip
    # Each is missing until then: only the scheduled feature names them.
    missing = ["/authors/guest-writer/", "/tags/hush/", "/feeds/authors/guest-writer.rss"]

    def secret_shown(self, url):
        response = self.client.get(url)
        assert response.status_code in {200, 404}, url
        return b"Secret" in response.content

    def start_again(self, compile_again=True):
        """Empty caches, and (unless told) statements that compile again when next run."""
        if compile_again:
            forget_all()
        caches["default"].clear()
        caching.forget()

    def test_a_scheduled_feature_arrives_in_every_list_at_its_time(self):
        self.start_again()
        for url in [*self.lists, *self.missing, self.scheduled.get_absolute_url()]:
            assert not self.secret_shown(url), url
        with mock.patch("django.utils.timezone.now", return_value=self.later):
            for url in [*self.lists, *self.missing, self.scheduled.get_absolute_url()]:
                with self.subTest(url=url):
                    assert self.secret_shown(url)

    def test_queries_compiled_at_a_later_time_show_nothing_early(self):
        self.start_again()
        with mock.patch("django.utils.timezone.now", return_value=self.later):
            for url in [*self.lists, *self.missing, self.scheduled.get_absolute_url()]:
                assert self.secret_shown(url), url
        self.start_again(compile_again=False)
        for url in [*self.lists, *self.missing, self.scheduled.get_absolute_url()]:
            with self.subTest(url=url):
                assert not self.secret_shown(url)


class QueryCountTests(TestCase):
    """Every public page costs the same number of queries for 3 features as for 30."""

    expected = {
        # Each count includes two index seeks for the next scheduled go-live, which the
        # Cache-Control header must not outlast: the cost when this process has not looked
        # in the last few seconds (each count starts so; see test_caching.py).
        "/": 7,
        "/features/": 6,
        "/sections/news/": 7,
        "/authors/ann-lee/": 7,
        "/tags/leadership/": 7,
        "/search/?q=story": 7,
        "/downloads/": 6,
    }

    @classmethod
    def setUpTestData(cls):
        cls.section = make_section("News")
        cls.authors = [make_author("Ann Lee", job_title="Editor"), make_author("Bo Ma")]

    def add_features(self, count):
        for _ in range(count):
            feature = make_feature(
                section=self.section, authors=self.authors, tags=["Leadership", "Health"],
                body="<p>A story.</p>", title=None,
            )  # fmt: skip
            feature.downloads.add(make_download(category=DownloadCategory.CROSSWORD))

    def count_queries(self, url):
        caching.forget_go_live()
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(url)
        assert response.status_code == 200, url
        return len(queries)

    def test_list_pages_cost_the_same_for_3_and_30_features(self):
        self.add_features(3)
        small = {url: self.count_queries(url) for url in self.expected}
        self.add_features(27)
        for url, expected in self.expected.items():
            with self.subTest(url=url):
                assert small[url] == expected
                caching.forget_go_live()
                with self.assertNumQueries(expected):
                    self.client.get(url)

    def test_list_pages_never_count_the_whole_archive(self):
        self.add_features(30)
        for url in ["/features/", "/features/?page=2", "/sections/news/", "/tags/leadership/"]:
            with self.subTest(url=url), CaptureQueriesContext(connection) as queries:
                assert self.client.get(url).status_code == 200
            assert not any("COUNT(" in query["sql"].upper() for query in queries), url

    def test_feature_page_costs_the_same_for_1_and_5_authors_and_tags(self):
        small = make_feature("Small", section=self.section, authors=self.authors[:1], tags=["a"])
        big_authors = [make_author(f"Writer {n}") for n in range(5)]
        big = make_feature(
            "Big", section=self.section, authors=big_authors, tags=["a", "b", "c", "d", "e"]
        )
        for download_number in range(4):
            big.downloads.add(make_download(f"File {download_number}"))
        # A feature without downloads (most) does not look for live ones: one query fewer.
        caching.forget_go_live()
        with self.assertNumQueries(7):
            response = self.client.get(small.get_absolute_url())
        assert response.context_data["downloads"] == []
        caching.forget_go_live()
        with self.assertNumQueries(8):
            response = self.client.get(big.get_absolute_url())
        assert len(response.context_data["downloads"]) == 4


class ArchivePagingTests(TestCase):
    """Older/Newer links seek by cursor: every item once, in order, at any depth."""

    @classmethod
    def setUpTestData(cls):
        section = make_section("News")
        now = timezone.now()
        cls.features = [
            make_feature(
                f"Item {n:02}",
                section=section,
                publish_at=now - timedelta(hours=n),
                tags=["Every item"] + (["Odd"] if n % 2 else []),
            )
            for n in range(30)
        ]
        # Two features published at the same moment are ordered by id.
        twin_time = now - timedelta(hours=40)
        cls.features += [
            make_feature("Twin A", section=section, publish_at=twin_time, tags=["Every item"]),
            make_feature("Twin B", section=section, publish_at=twin_time, tags=["Every item"]),
        ]
        # A draft carrying the tags, and a feature published later than all of them that
        # was given the tags and then unpublished: neither is in a tag's list.
        make_feature("Draft", section=section, status=Status.DRAFT, tags=["Every item", "Odd"])
        gone = make_feature("Gone", section=section, publish_at=now - timedelta(minutes=5),
                            tags=["Every item", "Odd"])  # fmt: skip
        Feature.objects.filter(pk=gone.pk).update(status=Status.DRAFT)

    def older_link(self, html):
        match = re.search(r'<a rel="next" href="\?([^"]+)">Older</a>', html)
        return match and match.group(1).replace("&amp;", "&")

    def newer_link(self, html):
        match = re.search(r'<a rel="prev" href="\?([^"]+)">Newer</a>', html)
        return match and match.group(1).replace("&amp;", "&")

    def walk(self, path):
        seen, query, pages = [], "", 0
        while True:
            response = self.client.get(f"{path}?{query}")
            assert response.status_code == 200
            seen += [f.title for f in response.context_data["features"]]
            pages += 1
            query = self.older_link(response.content.decode())
            if not query:
                return seen, pages
            assert query.startswith("before=")

    def test_older_links_walk_the_whole_archive_once_in_order(self):
        expected = [f.title for f in Feature.objects.live()]
        assert self.walk("/features/") == (expected, 3)

    def test_older_links_walk_a_tag_once_in_order(self):
        # A tag's list is ordered by its taggings' copy of each feature's time: the same
        # order, ties settled by id, drafts and unpublished features left out.
        every = [f.title for f in Feature.objects.live().filter(tags__slug="every-item")]
        assert every[-2:] == ["Twin B", "Twin A"] and len(every) == 32
        assert self.walk("/tags/every-item/") == (every, 3)
        odd = [f"Item {n:02}" for n in range(1, 30, 2)]
        assert self.walk("/tags/odd/") == (odd, 2)

    def test_newer_links_walk_back(self):
        for path in ["/features/", "/tags/every-item/"]:
            with self.subTest(path=path):
                html = self.client.get(path).content.decode()
                second = self.client.get(f"{path}?{self.older_link(html)}").content.decode()
                third = self.client.get(f"{path}?{self.older_link(second)}")
                back = self.client.get(f"{path}?{self.newer_link(third.content.decode())}")
                assert [f.title for f in back.context_data["features"]] == [
                    f.title for f in self.client.get(f"{path}?page=2").context_data["features"]
                ]

    def test_bad_cursors_are_404(self):
        for query in ["before=abc", "before=1-", "after=99999999999999999999-1", "before=0-1",
                      "before=" + "9" * 30 + "-1", "after=-5-2"]:  # fmt: skip
            with self.subTest(query=query):
                assert self.client.get(f"/features/?{query}").status_code == 404

    def test_a_deep_cursor_page_costs_what_the_first_does(self):
        oldest = Feature.objects.live().last()
        cursor = f"{int(oldest.publish_at.timestamp() * 1_000_000) + 1}-0"
        for path in ["/features/", "/tags/every-item/"]:
            with self.subTest(path=path):
                caching.forget_go_live()
                with CaptureQueriesContext(connection) as deep:
                    assert self.client.get(f"{path}?before={cursor}").status_code == 200
                caching.forget_go_live()
                with CaptureQueriesContext(connection) as first:
                    self.client.get(path)
                assert len(deep) == len(first)
                assert not any("OFFSET" in q["sql"].upper() for q in deep)

    def test_the_orm_builds_a_list_only_for_the_pages_that_need_it(self):
        # The first page and the pages before a cursor come from compiled statements;
        # numbered pages and the pages after a cursor from the ORM's queryset.
        html = self.client.get("/features/").content.decode()
        older = self.older_link(html)
        newer = self.newer_link(self.client.get(f"/features/?{older}").content.decode())
        for path in ["/features/", "/tags/every-item/"]:
            for query, built in [("", False), (older, False), ("page=2", True), (newer, True),
                                 ("page=last", True)]:  # fmt: skip
                with (
                    self.subTest(path=path, query=query),
                    mock.patch("features.views.as_cards", wraps=as_cards) as cards,
                ):
                    assert self.client.get(f"{path}?{query}").status_code == 200
                    assert cards.called is built

    def test_a_tag_list_joins_its_taggings_once(self):
        # Each filter on the taggings relation itself would join the table again.
        oldest = Feature.objects.live().last()
        cursor = f"{int(oldest.publish_at.timestamp() * 1_000_000) + 1}-0"
        with CaptureQueriesContext(connection) as queries:
            self.client.get(f"/tags/every-item/?before={cursor}")
        listing = [q["sql"] for q in queries if "ORDER BY" in q["sql"]]
        listing = [sql for sql in listing if "features_taggedfeature" in sql]
        assert len(listing) == 1
        for sql in listing:
            assert sql.count('JOIN "features_taggedfeature"') == 1, sql
