"""The RSS and Atom feeds and the "News feeds" page, parsed as XML and by feedparser."""

import io
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from urllib.parse import urljoin

import feedparser
import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import ProtectedError
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.xmlutils import SimplerXMLGenerator, UnserializableContentError
from PIL import Image

from features import workflow
from features.models import Byline, Download, Feature, Status
from features.sanitise import absolute_addresses, absolutise_urls, clean_html
from feeds.generators import QuickXMLGenerator
from feeds.models import ExternalFeed
from tests.factories import (
    jpeg_bytes,
    make_author,
    make_download,
    make_feature,
    make_section,
    make_user,
    pdf_bytes,
)

BASE = "http://testserver"
NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "media": "http://search.yahoo.com/mrss/",
}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
RFC822_DATE = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d\d:\d\d:\d\d [+-]\d{4}"
)
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
READER_ACCEPT = "application/rss+xml, application/atom+xml;q=0.9, application/xml;q=0.8, */*;q=0.1"


def absolute(path):
    return BASE + path


def feature_id(feature):
    return f"tag:{settings.NEWSROOM['FEED_ID_AUTHORITY']},2009:feature:{feature.pk}"


def download_id(download):
    return f"tag:{settings.NEWSROOM['FEED_ID_AUTHORITY']},2009:download:{download.pk}"


def both(path):
    """A feed's RSS and Atom addresses."""
    return [f"{path}.rss", f"{path}.atom"]


def fetch(client, url, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, (url, response.status_code)
    return response


def read_feed(response):
    """The XML root of a feed, once feedparser has accepted the same bytes."""
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return ET.fromstring(response.content), parsed


def entries(root):
    """RSS items or Atom entries, in document order."""
    if root.tag == "rss":
        return root.findall("channel/item")
    return root.findall("atom:entry", NS)


def titles(root):
    if root.tag == "rss":
        return [item.findtext("title") for item in entries(root)]
    return [entry.findtext("atom:title", namespaces=NS) for entry in entries(root)]


def ids(root):
    if root.tag == "rss":
        return [item.findtext("guid") for item in entries(root)]
    return [entry.findtext("atom:id", namespaces=NS) for entry in entries(root)]


def rfc822(text):
    assert RFC822_DATE.fullmatch(text), text
    return parsedate_to_datetime(text)


def http_time(response, header="Last-Modified"):
    return parsedate_to_datetime(response[header])


def max_age(response):
    directives = dict(
        part.strip().partition("=")[::2] for part in response["Cache-Control"].split(",")
    )
    return int(directives["max-age"])


def stylesheets(content):
    """The pseudo-attributes of each xml-stylesheet processing instruction."""
    parser = ET.XMLPullParser(events=["pi"])
    parser.feed(content)
    parser.close()
    return [
        dict(re.findall(r'(\w+)="([^"]*)"', element.text.removeprefix("xml-stylesheet")))
        for _event, element in parser.read_events()
        if element.text.startswith("xml-stylesheet")
    ]


def byline(feature):
    return [b.author for b in Byline.objects.filter(feature=feature).order_by("position", "pk")]


class Fragment(HTMLParser):
    """The tags, URL attributes and text of an HTML fragment."""

    def __init__(self, html):
        super().__init__()
        self.tags, self.attributes, self.text = [], [], []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += [(tag, name, value) for name, value in attrs]

    def handle_data(self, data):
        self.text.append(data)

    @property
    def urls(self):
        return [value for _tag, name, value in self.attributes if name in {"href", "src"}]

    @property
    def plain(self):
        return " ".join("".join(self.text).split())


class Page(HTMLParser):
    """
    The <link> elements in a page's <head>; in its <main>, the text and each <a> with
    the <h2> above it.
    """

    def __init__(self, html):
        super().__init__()
        self.in_head = self.in_main = self.in_h2 = False
        self.heading = ""
        self.head_links, self.anchors, self.main_text = [], [], []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        if tag in {"head", "main"}:
            setattr(self, f"in_{tag}", True)
        elif tag == "link" and self.in_head:
            self.head_links.append(dict(attrs))
        elif tag == "h2" and self.in_main:
            self.in_h2, self.heading = True, ""
        elif tag == "a" and self.in_main:
            self.anchors.append((" ".join(self.heading.split()), dict(attrs).get("href")))

    def handle_endtag(self, tag):
        if tag in {"head", "main", "h2"}:
            setattr(self, f"in_{tag}", False)

    def handle_data(self, data):
        if self.in_h2:
            self.heading += data
        if self.in_main:
            self.main_text.append(data)

    @property
    def text(self):
        return " ".join("".join(self.main_text).split())

    def alternates(self, page_url, mime_type):
        return [
            urljoin(page_url, link["href"])
            for link in self.head_links
            if link.get("rel") == "alternate" and link.get("type") == mime_type
        ]

    def links_under(self, heading):
        return [href for under, href in self.anchors if under == heading]


def check_body(html, feature):
    """The full body, still clean, with every address absolute."""
    body = Fragment(html)
    assert body.plain == Fragment(feature.body).plain
    assert "script" not in body.tags
    assert not [name for _tag, name, _value in body.attributes if name.startswith("on")]
    for url in body.urls:
        assert url.startswith(f"{BASE}/"), url


def check_media(element, feature):
    """The hero image as media:content with its real size, type, dimensions and alt text."""
    media = element.findall("media:content", NS)
    if not feature.hero_image:
        assert media == []
        return
    [media] = media
    with Image.open(feature.hero_image.path) as image:
        (width, height), mime_type = image.size, Image.MIME[image.format]
    assert media.get("url") == absolute(feature.hero_image.url)
    assert media.get("fileSize") == str(feature.hero_image.storage.size(feature.hero_image.name))
    assert media.get("type") == mime_type
    assert (media.get("width"), media.get("height")) == (str(width), str(height))
    assert media.findtext("media:description", namespaces=NS) == feature.hero_image_alt


def check_rss_item(item, feature):
    assert item.findtext("title") == feature.title
    assert item.findtext("link") == absolute(feature.get_absolute_url())
    guid = item.find("guid")
    assert guid.text == feature_id(feature)
    assert guid.get("isPermaLink") == "false"
    assert rfc822(item.findtext("pubDate")) == feature.first_published_at.replace(microsecond=0)
    creators = [creator.text for creator in item.findall("dc:creator", NS)]
    assert creators == [author.name for author in byline(feature)]
    assert sorted(c.text for c in item.findall("category")) == sorted(feature.tags.names())
    assert item.findtext("description") == feature.standfirst
    check_body(item.findtext("content:encoded", namespaces=NS), feature)
    check_media(item, feature)


def check_atom_entry(entry, feature):
    def text(path):
        return entry.findtext(path, namespaces=NS)

    assert text("atom:title") == feature.title
    alternates = entry.findall("atom:link[@rel='alternate']", NS)
    assert [link.get("href") for link in alternates] == [absolute(feature.get_absolute_url())]
    assert text("atom:id") == feature_id(feature)
    assert datetime.fromisoformat(text("atom:published")) == feature.first_published_at
    updated = feature.last_major_update_at or feature.first_published_at
    assert datetime.fromisoformat(text("atom:updated")) == updated
    authors = [
        (author.findtext("atom:name", namespaces=NS), author.findtext("atom:uri", namespaces=NS))
        for author in entry.findall("atom:author", NS)
    ]
    assert authors == [(a.name, absolute(a.get_absolute_url())) for a in byline(feature)]
    terms = sorted(category.get("term") for category in entry.findall("atom:category", NS))
    assert terms == sorted(feature.tags.names())
    summary = entry.find("atom:summary", NS)
    assert (summary.get("type"), summary.text) == ("text", feature.standfirst)
    content = entry.find("atom:content", NS)
    assert content.get("type") == "html"
    check_body(content.text, feature)
    check_media(entry, feature)


class FeedContentTests(TestCase):
    """Every feature feed, RSS and Atom, checked item by item."""

    @classmethod
    def setUpTestData(cls):
        now = timezone.now()
        cls.opinion = make_section("Opinion")
        cls.news = make_section("News")
        cls.zed = make_author("Zoe Zed")
        cls.ant = make_author("Adam Ant")
        cls.lee = make_author("Ann Lee")
        cls.lead = make_feature(
            "Leading on leadership", section=cls.opinion, authors=[cls.ant, cls.zed],
            tags=["Leadership", "Health"], publish_at=now - timedelta(hours=1),
            standfirst="What leadership for improvement looks like.",
            body='<p>Read <a href="/about/">about us</a>.</p>'
            '<p><img src="/media/x.jpg" alt="x"></p>',
            hero_image_alt="A ward at dawn",
        )  # fmt: skip
        cls.lead.hero_image.save("ward.jpg", ContentFile(jpeg_bytes((64, 48))), save=True)
        # Byline order is neither name nor creation order: Zoe Zed first.
        Byline.objects.filter(feature=cls.lead, author=cls.zed).update(position=0)
        Byline.objects.filter(feature=cls.lead, author=cls.ant).update(position=1)
        # Withdrawn, restored and republished: first publication is earlier than publish_at.
        Feature.objects.filter(pk=cls.lead.pk).update(
            first_published_at=now - timedelta(hours=2),
            last_major_update_at=now - timedelta(minutes=10),
        )
        cls.lead.refresh_from_db()
        cls.news_item = make_feature(
            "Ward news", section=cls.news, authors=[cls.zed], tags=["Wards"],
            publish_at=now - timedelta(days=2),
        )  # fmt: skip
        cls.older = make_feature(
            "An older piece", section=cls.opinion, authors=[cls.lee], tags=["Leadership"],
            publish_at=now - timedelta(days=3),
        )  # fmt: skip
        make_feature(
            "Draft on leadership", section=cls.opinion, status=Status.DRAFT,
            authors=[cls.zed], tags=["Leadership"],
        )  # fmt: skip
        make_feature(
            "Scheduled on leadership", section=cls.opinion, authors=[cls.zed],
            tags=["Leadership"], publish_at=now + timedelta(days=1),
        )  # fmt: skip
        cls.feeds = {
            "/feeds/latest": ("Newsroom — Latest features", [cls.lead, cls.news_item, cls.older]),
            "/feeds/sections/opinion": ("Newsroom — Opinion", [cls.lead, cls.older]),
            "/feeds/tags/leadership": (
                "Newsroom — Features tagged Leadership",
                [cls.lead, cls.older],
            ),
            "/feeds/authors/zoe-zed": ("Newsroom — Features by Zoe Zed", [cls.lead, cls.news_item]),
        }
        make_download("Annual report")

    def each_feed(self):
        """(url, title, features) for every feature feed in both formats."""
        for path, (title, features) in self.feeds.items():
            for url in both(path):
                yield url, title, features

    def test_every_feed_holds_its_live_features_newest_first(self):
        for url, _title, features in self.each_feed():
            with self.subTest(url=url):
                root, parsed = read_feed(fetch(self.client, url))
                assert titles(root) == [feature.title for feature in features]
                assert [entry.title for entry in parsed.entries] == titles(root)

    def test_feed_titles_say_what_they_hold(self):
        for url, title, _features in self.each_feed():
            with self.subTest(url=url):
                root, parsed = read_feed(fetch(self.client, url))
                path = "channel/title" if root.tag == "rss" else "atom:title"
                assert root.findtext(path, namespaces=NS) == title
                assert parsed.feed.title == title

    def test_rss_items_carry_everything_a_reader_needs(self):
        for url, _title, features in self.each_feed():
            if not url.endswith(".rss"):
                continue
            root, _parsed = read_feed(fetch(self.client, url))
            for item, feature in zip(entries(root), features, strict=True):
                with self.subTest(url=url, feature=feature.title):
                    check_rss_item(item, feature)

    def test_atom_entries_carry_everything_a_reader_needs(self):
        for url, _title, features in self.each_feed():
            if not url.endswith(".atom"):
                continue
            root, _parsed = read_feed(fetch(self.client, url))
            for entry, feature in zip(entries(root), features, strict=True):
                with self.subTest(url=url, feature=feature.title):
                    check_atom_entry(entry, feature)

    def test_feedparser_reads_ids_links_authors_dates_and_tags(self):
        for url, _title, features in self.each_feed():
            _root, parsed = read_feed(fetch(self.client, url))
            assert parsed.version == ("rss20" if url.endswith(".rss") else "atom10")
            for entry, feature in zip(parsed.entries, features, strict=True):
                with self.subTest(url=url, feature=feature.title):
                    assert entry.id == feature_id(feature)
                    assert entry.link == absolute(feature.get_absolute_url())
                    names = [author.name for author in entry.authors]
                    assert names == [author.name for author in byline(feature)]
                    published = feature.first_published_at.utctimetuple()[:6]
                    assert tuple(entry.published_parsed)[:6] == published
                    assert sorted(tag.term for tag in entry.tags) == sorted(feature.tags.names())

    def test_lead_feature_has_absolute_links_and_images_and_its_hero_image(self):
        for url in both("/feeds/latest"):
            with self.subTest(url=url):
                root, _parsed = read_feed(fetch(self.client, url))
                entry = entries(root)[0]
                if root.tag == "rss":
                    html = entry.findtext("content:encoded", namespaces=NS)
                else:
                    html = entry.findtext("atom:content", namespaces=NS)
                body = Fragment(html)
                assert body.urls == [absolute("/about/"), absolute("/media/x.jpg")]
                assert ("img", "alt", "x") in body.attributes
                media = entry.find("media:content", NS)
                stored = self.lead.hero_image
                assert media.get("fileSize") == str(stored.storage.size(stored.name))
                assert media.get("type") == "image/jpeg"
                assert (media.get("width"), media.get("height")) == ("64", "48")
                assert media.findtext("media:description", namespaces=NS) == "A ward at dawn"

    def test_body_saved_unclean_reaches_the_feed_clean_with_absolute_addresses(self):
        # Saving cleans the body; the feed shows what is stored, as the page does, with its
        # addresses made absolute.
        self.older.body = (
            '<p onclick="steal()">Hi<script>alert(1)</script> '
            '<a href="javascript:alert(1)">bad</a> <a href="notes/">notes</a></p>'
        )
        self.older.save()
        for url in both("/feeds/latest"):
            with self.subTest(url=url):
                root, _parsed = read_feed(fetch(self.client, url))
                item = entries(root)[2]
                if root.tag == "rss":
                    body = Fragment(item.findtext("content:encoded", namespaces=NS))
                else:
                    body = Fragment(item.findtext("atom:content", namespaces=NS))
                assert "script" not in body.tags
                assert not [a for a in body.attributes if a[1].startswith("on")]
                assert body.urls == [absolute(self.older.get_absolute_url() + "notes/")]

    def test_item_id_survives_a_change_of_slug_and_title(self):
        before = {}
        for url, _title, _features in self.each_feed():
            root, _parsed = read_feed(fetch(self.client, url))
            before[url] = ids(root)[titles(root).index("Leading on leadership")]
        self.lead.title = "Leadership, revisited"
        self.lead.slug = "leadership-revisited"
        self.lead.save()
        for url, _title, _features in self.each_feed():
            with self.subTest(url=url):
                root, parsed = read_feed(fetch(self.client, url))
                position = titles(root).index("Leadership, revisited")
                assert ids(root)[position] == before[url] == feature_id(self.lead)
                assert parsed.entries[position].id == before[url]
                assert parsed.entries[position].link == absolute("/features/leadership-revisited/")

    def test_rss_channel_has_self_link_language_and_last_build_date(self):
        for url in [*(u for u, _t, _f in self.each_feed() if u.endswith(".rss")),
                    "/feeds/downloads.rss"]:  # fmt: skip
            with self.subTest(url=url):
                root, _parsed = read_feed(fetch(self.client, url))
                channel = root.find("channel")
                selves = channel.findall("atom:link[@rel='self']", NS)
                assert [link.get("href") for link in selves] == [absolute(url)]
                assert channel.findtext("language") == "en-gb"
                assert channel.findtext("link").startswith(f"{BASE}/")
                built = rfc822(channel.findtext("lastBuildDate"))
                newest = max(rfc822(item.findtext("pubDate")) for item in entries(root))
                assert newest <= built <= timezone.now()

    def test_atom_feed_has_self_link_language_id_and_updated(self):
        for url, _title, _features in self.each_feed():
            if not url.endswith(".atom"):
                continue
            with self.subTest(url=url):
                root, _parsed = read_feed(fetch(self.client, url))
                assert root.get(XML_LANG) == "en-gb"
                selves = root.findall("atom:link[@rel='self']", NS)
                assert [link.get("href") for link in selves] == [absolute(url)]
                assert root.findtext("atom:id", namespaces=NS).startswith("tag:")
                updated = datetime.fromisoformat(root.findtext("atom:updated", namespaces=NS))
                newest = max(
                    datetime.fromisoformat(entry.findtext("atom:updated", namespaces=NS))
                    for entry in entries(root)
                )
                assert updated == newest

    def test_every_feed_asks_browsers_for_a_css_stylesheet(self):
        urls = [url for url, _title, _features in self.each_feed()] + ["/feeds/downloads.rss"]
        for url in urls:
            with self.subTest(url=url):
                [stylesheet] = stylesheets(fetch(self.client, url).content)
                assert stylesheet["type"] == "text/css"
                assert stylesheet["href"].endswith(".css")
                assert finders.find(stylesheet["href"].removeprefix(settings.STATIC_URL))

    def test_feeds_hold_at_most_the_configured_number_of_items(self):
        now = timezone.now()
        newer = [
            make_feature(
                section=self.opinion,
                authors=[self.zed],
                tags=["Leadership"],
                publish_at=now - timedelta(minutes=minutes),
            )
            for minutes in (1, 2, 3)
        ]
        with override_settings(NEWSROOM={**settings.NEWSROOM, "FEED_ITEMS": 3}):
            for url, _title, _features in self.each_feed():
                with self.subTest(url=url):
                    root, _parsed = read_feed(fetch(self.client, url))
                    assert titles(root) == [feature.title for feature in newer]


class DownloadsFeedTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        now = timezone.now()
        cls.contents = {"report": pdf_bytes(pages=3), "data": b"ward,beds\nA,12\nB,9\n"}
        cls.report = make_download(
            "Annual report", content=cls.contents["report"], publish_at=now - timedelta(days=2)
        )
        cls.data = make_download(
            "Ward data", content=cls.contents["data"], filename="wards.csv",
            publish_at=now - timedelta(days=1),
        )  # fmt: skip
        make_download("Draft download", status=Status.DRAFT)
        make_download("Scheduled download", publish_at=now + timedelta(days=1))
        cls.expected = [
            (cls.data, cls.contents["data"], "text/csv"),
            (cls.report, cls.contents["report"], "application/pdf"),
        ]

    def test_each_live_download_is_an_item_with_its_file_as_enclosure(self):
        root, parsed = read_feed(fetch(self.client, "/feeds/downloads.rss"))
        assert root.findtext("channel/title") == "Newsroom — Downloads"
        assert titles(root) == ["Ward data", "Annual report"]
        for item, entry, (download, content, mime_type) in zip(
            entries(root), parsed.entries, self.expected, strict=True
        ):
            with self.subTest(download=download.title):
                [enclosure] = item.findall("enclosure")
                assert enclosure.get("url") == absolute(download.get_absolute_url())
                assert enclosure.get("length") == str(len(content))
                stored = download.file.storage.size(download.file.name)
                assert enclosure.get("length") == str(stored)
                assert enclosure.get("type") == mime_type
                guid = item.find("guid")
                assert (guid.text, guid.get("isPermaLink")) == (download_id(download), "false")
                assert rfc822(item.findtext("pubDate")) == download.publish_at.replace(
                    microsecond=0
                )
                [reader_view] = entry.enclosures
                assert (reader_view.href, reader_view.type) == (enclosure.get("url"), mime_type)
                assert int(reader_view.length) == len(content)

    def test_enclosure_url_serves_exactly_the_bytes_and_type_it_announces(self):
        root, _parsed = read_feed(fetch(self.client, "/feeds/downloads.rss"))
        for item in entries(root):
            enclosure = item.find("enclosure")
            with self.subTest(url=enclosure.get("url")):
                response = fetch(self.client, enclosure.get("url").removeprefix(BASE))
                assert len(b"".join(response.streaming_content)) == int(enclosure.get("length"))
                assert response["Content-Type"] == enclosure.get("type")


class MissingFeedTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        now = timezone.now()
        section = make_section("News")
        make_feature("Visible", section=section, authors=[make_author("Ann Lee")], tags=["open"])
        hidden = {
            "draft": {"status": Status.DRAFT},
            "review": {"status": Status.IN_REVIEW},
            "scheduled": {"publish_at": now + timedelta(days=1)},
            "withdrawn": {"status": Status.WITHDRAWN},
        }
        for state, fields in hidden.items():
            make_feature(
                f"Secret {state}", section=section, tags=[f"only-{state}"],
                authors=[make_author(f"{state.title()} Writer")], **fields,
            )  # fmt: skip
        cls.states = list(hidden)

    def test_unknown_slugs_are_404(self):
        for kind in ["sections", "tags", "authors"]:
            for url in both(f"/feeds/{kind}/no-such-thing"):
                with self.subTest(url=url):
                    assert self.client.get(url).status_code == 404

    def test_authors_and_tags_of_hidden_features_only_have_no_feed(self):
        for state in self.states:
            for url in both(f"/feeds/authors/{state}-writer") + both(f"/feeds/tags/only-{state}"):
                with self.subTest(url=url):
                    response = self.client.get(url)
                    assert response.status_code == 404
                    assert b"Secret" not in response.content

    def test_live_author_and_tag_have_feeds(self):
        for url in both("/feeds/authors/ann-lee") + both("/feeds/tags/open"):
            with self.subTest(url=url):
                read_feed(fetch(self.client, url))


class HiddenFeaturesTests(TestCase):
    """Drafts, features in review, scheduled and withdrawn features are in no feed."""

    @classmethod
    def setUpTestData(cls):
        cls.editor = make_user(group="Editors")
        section = make_section("News")
        author = make_author("Ann Lee")
        make_feature("Visible story", section=section, authors=[author], tags=["open"])
        now = timezone.now()
        cls.hidden = {
            state: make_feature(
                f"Secret {state}", section=section, authors=[author], tags=["open"], **fields
            )
            for state, fields in {
                "draft": {"status": Status.DRAFT},
                "in review": {"status": Status.IN_REVIEW},
                "scheduled": {"publish_at": now + timedelta(days=1)},
                "withdrawn": {"status": Status.WITHDRAWN},
            }.items()
        }
        paths = ["/feeds/latest", "/feeds/sections/news", "/feeds/tags/open"]
        cls.urls = [url for path in [*paths, "/feeds/authors/ann-lee"] for url in both(path)]

    def feed_contents(self, url):
        root, parsed = read_feed(fetch(self.client, url))
        assert [entry.title for entry in parsed.entries] == titles(root)
        return set(titles(root)), set(ids(root))

    def assert_in_every_feed(self, feature):
        feature.refresh_from_db()
        for url in self.urls:
            with self.subTest(url=url):
                found_titles, found_ids = self.feed_contents(url)
                assert feature.title in found_titles
                assert feature_id(feature) in found_ids

    def test_hidden_features_are_in_no_feed(self):
        for url in self.urls:
            with self.subTest(url=url):
                found_titles, found_ids = self.feed_contents(url)
                assert found_titles == {"Visible story"}
                assert not {feature_id(f) for f in self.hidden.values()} & found_ids

    def test_publishing_a_draft_or_feature_in_review_puts_it_in_every_feed(self):
        for state in ["draft", "in review"]:
            feature = self.hidden[state]
            workflow.publish(feature, by=self.editor)
            self.assert_in_every_feed(feature)

    def test_a_withdrawn_feature_restored_and_published_is_back_in_every_feed(self):
        feature = self.hidden["withdrawn"]
        workflow.restore(feature, by=self.editor)
        workflow.publish(feature, by=self.editor)
        self.assert_in_every_feed(feature)

    def test_a_scheduled_feature_enters_every_feed_when_its_time_comes(self):
        feature = self.hidden["scheduled"]
        Feature.objects.filter(pk=feature.pk).update(
            publish_at=timezone.now() - timedelta(seconds=1)
        )
        self.assert_in_every_feed(feature)


class EscapingTests(TestCase):
    TITLE = '<script>alert(1)</script> & "quotes"'

    @classmethod
    def setUpTestData(cls):
        make_feature(
            cls.TITLE, slug="script-title", section=make_section("News"),
            authors=[make_author("Ann Lee")], tags=["open"],
        )  # fmt: skip

    def test_markup_in_a_title_is_text_in_rss_and_atom(self):
        for url in both("/feeds/latest") + both("/feeds/sections/news"):
            with self.subTest(url=url):
                root, parsed = read_feed(fetch(self.client, url))
                assert titles(root) == [self.TITLE]
                assert parsed.entries[0].title == self.TITLE
                assert [e for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "script"] == []


class PollingTests(TestCase):
    """ETag and Last-Modified come from each feed's own items; a conditional request is a 304."""

    feature_feeds = [
        *both("/feeds/latest"), *both("/feeds/sections/alpha"), *both("/feeds/tags/care"),
        *both("/feeds/authors/ann-lee"),
    ]  # fmt: skip
    all_feeds = [*feature_feeds, "/feeds/downloads.rss"]

    @classmethod
    def setUpTestData(cls):
        now = timezone.now()
        cls.editor = make_user(group="Editors")
        cls.alpha = make_section("Alpha")
        cls.beta = make_section("Beta")
        cls.writer = make_author("Ann Lee")

        def feature(title, section, **fields):
            return make_feature(
                title, section=section, authors=[cls.writer], tags=["Care"], **fields
            )

        cls.alpha_live = feature("Alpha live", cls.alpha)
        cls.alpha_second = feature("Alpha second", cls.alpha)
        cls.beta_live = feature("Beta live", cls.beta)
        cls.draft = feature("Alpha draft", cls.alpha, status=Status.DRAFT)
        cls.scheduled = feature("Alpha scheduled", cls.alpha, publish_at=now + timedelta(days=2))
        make_download("Report")
        # Everything last changed an hour ago, so a change now shows in Last-Modified.
        cls.changed_at = now - timedelta(hours=1)
        Feature.objects.update(updated_at=cls.changed_at)
        Download.objects.update(updated_at=cls.changed_at)

    def state(self, urls):
        """Each feed's (ETag, Last-Modified)."""
        return {url: ((r := fetch(self.client, url))["ETag"], http_time(r)) for url in urls}

    def test_every_feed_sends_etag_and_last_modified_of_its_items(self):
        for url in self.all_feeds:
            with self.subTest(url=url):
                response = fetch(self.client, url)
                assert re.fullmatch(r'"[^"]+"', response["ETag"])
                assert http_time(response) == self.changed_at.replace(microsecond=0)

    def test_if_none_match_gets_304_with_an_empty_body(self):
        for url in self.all_feeds:
            with self.subTest(url=url):
                etag = fetch(self.client, url)["ETag"]
                response = self.client.get(url, headers={"If-None-Match": etag})
                assert response.status_code == 304
                assert response.content == b""
                assert response["ETag"] == etag

    def test_if_modified_since_gets_304(self):
        for url in self.all_feeds:
            with self.subTest(url=url):
                last_modified = fetch(self.client, url)["Last-Modified"]
                response = self.client.get(url, headers={"If-Modified-Since": last_modified})
                assert response.status_code == 304
                assert response.content == b""

    def test_304_costs_fewer_queries_than_building_the_feed(self):
        for url in self.all_feeds:
            with self.subTest(url=url):
                with CaptureQueriesContext(connection) as full:
                    etag = fetch(self.client, url)["ETag"]
                with CaptureQueriesContext(connection) as conditional:
                    response = self.client.get(url, headers={"If-None-Match": etag})
                assert response.status_code == 304
                assert len(conditional) < len(full)

    def test_a_change_in_section_a_changes_its_etag_and_not_section_b(self):
        alpha, beta = both("/feeds/sections/alpha"), both("/feeds/sections/beta")
        before = self.state(alpha + beta)
        self.alpha_live.standfirst = "A corrected standfirst."
        self.alpha_live.save()
        after = self.state(alpha + beta)
        for url in alpha:
            with self.subTest(url=url):
                assert after[url][0] != before[url][0]
                assert after[url][1] > before[url][1]
        for url in beta:
            with self.subTest(url=url):
                assert after[url] == before[url]

    def test_editing_a_draft_or_scheduled_feature_changes_no_etag_or_last_modified(self):
        for feature in [self.draft, self.scheduled]:
            with self.subTest(feature=feature.title):
                before = self.state(self.feature_feeds)
                feature.title += ", edited"
                feature.save()
                assert self.state(self.feature_feeds) == before

    def test_publishing_a_draft_changes_etag_and_moves_last_modified_forward(self):
        before = self.state(self.feature_feeds)
        workflow.publish(self.draft, by=self.editor)
        after = self.state(self.feature_feeds)
        for url in self.feature_feeds:
            with self.subTest(url=url):
                assert after[url][0] != before[url][0]
                assert after[url][1] > before[url][1]

    def take_down(self, action):
        """Unpublish or withdraw a live feature in section Alpha, as an editor."""
        if action == "unpublish":
            workflow.unpublish(self.alpha_live, by=self.editor)
        else:
            workflow.withdraw(self.alpha_live, by=self.editor, notice="It contained an error.")

    def test_unpublishing_or_withdrawing_changes_the_etag_of_its_feeds_only(self):
        beta = both("/feeds/sections/beta")
        for action in ["unpublish", "withdraw"]:
            with self.subTest(action=action):
                before = self.state(self.feature_feeds + beta)
                self.take_down(action)
                after = self.state(self.feature_feeds + beta)
                for url in self.feature_feeds:
                    assert after[url][0] != before[url][0], url
                    assert "Alpha live" not in titles(read_feed(fetch(self.client, url))[0])
                for url in beta:
                    assert after[url] == before[url], url
                # Put it back for the next action.
                self.alpha_live.refresh_from_db()
                if action == "withdraw":
                    workflow.restore(self.alpha_live, by=self.editor)
                workflow.publish(self.alpha_live, by=self.editor)

    def test_unpublishing_moves_last_modified_forward(self):
        before = self.state(self.feature_feeds)
        self.take_down("unpublish")
        after = self.state(self.feature_feeds)
        # No subTest here: a failing subtest would not count as this test's expected failure.
        moved = [url for url in self.feature_feeds if after[url][1] > before[url][1]]
        assert moved == self.feature_feeds

    def test_withdrawing_moves_last_modified_forward(self):
        before = self.state(self.feature_feeds)
        self.take_down("withdraw")
        after = self.state(self.feature_feeds)
        # No subTest here: a failing subtest would not count as this test's expected failure.
        moved = [url for url in self.feature_feeds if after[url][1] > before[url][1]]
        assert moved == self.feature_feeds

    def test_withdrawn_feature_is_not_hidden_from_if_modified_since(self):
        last_modified = fetch(self.client, "/feeds/latest.rss")["Last-Modified"]
        self.take_down("withdraw")
        response = self.client.get(
            "/feeds/latest.rss", headers={"If-Modified-Since": last_modified}
        )
        assert response.status_code == 200

    def test_max_age_never_outlasts_the_next_scheduled_item_in_the_feeds_scope(self):
        now = timezone.now()
        make_feature(
            "Alpha soon", section=self.alpha, authors=[self.writer], tags=["Care"],
            publish_at=now + timedelta(seconds=120),
        )  # fmt: skip
        make_download("Soon download", publish_at=now + timedelta(seconds=90))
        for url in self.feature_feeds:
            with self.subTest(url=url):
                assert 0 < max_age(fetch(self.client, url)) <= 120
        assert 0 < max_age(fetch(self.client, "/feeds/downloads.rss")) <= 90
        for url in both("/feeds/sections/beta"):
            with self.subTest(url=url):
                assert max_age(fetch(self.client, url)) == settings.NEWSROOM["FEED_MAX_AGE"]

    def test_304_max_age_also_stops_at_the_next_scheduled_item(self):
        make_feature(
            "Alpha soon", section=self.alpha, authors=[self.writer], tags=["Care"],
            publish_at=timezone.now() + timedelta(seconds=120),
        )  # fmt: skip
        response = fetch(self.client, "/feeds/latest.rss")
        conditional = self.client.get(
            "/feeds/latest.rss", headers={"If-None-Match": response["ETag"]}
        )
        assert conditional.status_code == 304
        assert max_age(conditional) <= 120

    def test_a_browser_gets_plain_xml_with_its_own_etag(self):
        for url in self.all_feeds:
            with self.subTest(url=url):
                browser = fetch(self.client, url, Accept=BROWSER_ACCEPT)
                reader = fetch(self.client, url, Accept=READER_ACCEPT)
                assert browser["Content-Type"].split(";")[0] == "application/xml"
                assert browser["ETag"] != reader["ETag"]
                read_feed(browser)
                assert len(stylesheets(browser.content)) == 1
                again = self.client.get(
                    url, headers={"Accept": BROWSER_ACCEPT, "If-None-Match": browser["ETag"]}
                )
                assert again.status_code == 304

    def test_a_feed_reader_gets_the_feed_media_type(self):
        for url in self.all_feeds:
            expected = "application/atom+xml" if url.endswith(".atom") else "application/rss+xml"
            for accept in [READER_ACCEPT, None]:
                with self.subTest(url=url, accept=accept):
                    headers = {"Accept": accept} if accept else {}
                    response = fetch(self.client, url, **headers)
                    assert response["Content-Type"].split(";")[0] == expected

    def test_responses_vary_on_accept(self):
        for url in self.all_feeds:
            with self.subTest(url=url):
                response = fetch(self.client, url)
                conditional = self.client.get(url, headers={"If-None-Match": response["ETag"]})
                for answer in [response, conditional]:
                    assert "accept" in [v.strip().lower() for v in answer["Vary"].split(",")]

    def test_renaming_an_author_changes_the_latest_feed(self):
        before = fetch(self.client, "/feeds/latest.rss")
        self.writer.name = "Ann Lee-Smith"
        self.writer.save()
        root, _parsed = read_feed(fetch(self.client, "/feeds/latest.rss"))
        assert "Ann Lee-Smith" in [c.text for c in root.iter(f"{{{NS['dc']}}}creator")]
        response = self.client.get("/feeds/latest.rss", headers={"If-None-Match": before["ETag"]})
        assert response.status_code == 200

    def test_a_published_feature_cannot_be_deleted_behind_the_feeds_back(self):
        # Deleting would leave no trace for If-Modified-Since; it must be unpublished first.
        before = fetch(self.client, "/feeds/latest.rss")["ETag"]
        with self.assertRaises(ProtectedError), transaction.atomic():
            self.alpha_live.delete()
        with self.assertRaises(ProtectedError), transaction.atomic():
            Feature.objects.filter(pk=self.alpha_live.pk).delete()
        assert Feature.objects.filter(pk=self.alpha_live.pk).exists()
        assert fetch(self.client, "/feeds/latest.rss")["ETag"] == before


class FeedQueryCountTests(TestCase):
    """Each feed costs the same number of queries for 3 features as for 30, built or 304."""

    expected = {
        # Built: the features (read by the poll, with when each changed), the poll's other
        # seeks asked together (when an item last left, the next scheduled one, and for a
        # scoped feed its scope change), their bylines, the bylines' authors and their tags;
        # a conditional request polls in two queries. Scoped feeds first find their section,
        # tag or author. The downloads feed reads its items apart from its poll.
        "/feeds/latest.rss": (5, 2),
        "/feeds/latest.atom": (5, 2),
        "/feeds/sections/news.rss": (6, 3),
        "/feeds/sections/news.atom": (6, 3),
        "/feeds/tags/leadership.rss": (6, 3),
        "/feeds/tags/leadership.atom": (6, 3),
        "/feeds/authors/ann-lee.rss": (6, 3),
        "/feeds/authors/ann-lee.atom": (6, 3),
        "/feeds/downloads.rss": (3, 2),
    }

    @classmethod
    def setUpTestData(cls):
        cls.section = make_section("News")
        cls.authors = [make_author("Ann Lee"), make_author("Bo Ma")]

    def add(self, count):
        for number in range(count):
            feature = make_feature(
                section=self.section, authors=self.authors, tags=["Leadership", "Health"],
                hero_image_alt="A ward" if number % 2 else "",
            )  # fmt: skip
            if number % 2:
                feature.hero_image.save("ward.jpg", ContentFile(jpeg_bytes()), save=True)
            make_download()

    def count(self, url, **headers):
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(url, headers=headers)
        assert response.status_code in {200, 304}, url
        return len(queries), response

    def costs(self, url):
        full, response = self.count(url)
        conditional, answer = self.count(url, **{"If-None-Match": response["ETag"]})
        assert answer.status_code == 304
        return full, conditional

    def test_every_feed_costs_the_same_for_3_and_30_features(self):
        self.add(3)
        small = {url: self.costs(url) for url in self.expected}
        self.add(27)
        for url, (full, conditional) in self.expected.items():
            with self.subTest(url=url):
                assert small[url] == (full, conditional)
                with self.assertNumQueries(full):
                    response = fetch(self.client, url)
                assert len(entries(read_feed(response)[0])) == settings.NEWSROOM["FEED_ITEMS"]
                with self.assertNumQueries(conditional):
                    self.client.get(url, headers={"If-None-Match": response["ETag"]})

    def test_a_stale_etag_gets_the_same_feed_as_a_first_fetch(self):
        # Polled first, then read: the same items and the same ETag as a fetch whose poll
        # reads the items itself.
        self.add(4)
        for url in self.expected:
            with self.subTest(url=url):
                first = fetch(self.client, url)
                again = self.client.get(url, headers={"If-None-Match": '"stale"'})
                assert again.status_code == 200
                assert again["ETag"] == first["ETag"]
                assert again["Last-Modified"] == first["Last-Modified"]
                assert again.content == first.content


class FeedIndexTests(TestCase):
    """The "News feeds" page lists every feed with live features, and nothing else."""

    @classmethod
    def setUpTestData(cls):
        news = make_section("News")
        hidden_section = make_section("Hidden")
        author = make_author("Ann Lee")
        make_feature("Visible", section=news, authors=[author], tags=["Leadership"])
        make_feature(
            "Secret", section=hidden_section, status=Status.DRAFT,
            authors=[make_author("Guest Writer")], tags=["hush"],
        )  # fmt: skip
        make_download("Report")
        for position, title in [(2, "Staff news"), (1, "Board papers"), (3, "Jobs")]:
            ExternalFeed.objects.create(
                title=title, position=position,
                url=f"https://example.org/{title.lower().replace(' ', '-')}.rss",
            )  # fmt: skip
        cls.feed_urls = [
            *both("/feeds/latest"), "/feeds/downloads.rss", *both("/feeds/sections/news"),
            *both("/feeds/tags/leadership"), *both("/feeds/authors/ann-lee"),
        ]  # fmt: skip

    def page(self):
        return Page(fetch(self.client, "/feeds/").content.decode())

    def test_page_links_every_feed_with_live_features_and_no_other(self):
        linked = [href for _heading, href in self.page().anchors if href.startswith("/feeds/")]
        assert sorted(linked) == sorted(self.feed_urls)

    def test_every_linked_feed_is_a_valid_feed(self):
        for url in self.feed_urls:
            with self.subTest(url=url):
                read_feed(fetch(self.client, url))

    def test_page_names_nothing_only_drafts_use(self):
        text = self.page().text
        assert "Ann Lee" in text and "Leadership" in text
        for name in ["Guest Writer", "hush", "Hidden", "Secret"]:
            with self.subTest(name=name):
                assert name not in text

    def test_external_feeds_are_listed_under_other_news_in_position_order(self):
        assert self.page().links_under("Other news from the organisation") == [
            "https://example.org/board-papers.rss",
            "https://example.org/staff-news.rss",
            "https://example.org/jobs.rss",
        ]


class AutodiscoveryTests(TestCase):
    """Home, section, tag and author pages announce their own feed in the <head>."""

    pages = {
        "/": "/feeds/latest",
        "/sections/news/": "/feeds/sections/news",
        "/tags/leadership/": "/feeds/tags/leadership",
        "/authors/ann-lee/": "/feeds/authors/ann-lee",
    }

    @classmethod
    def setUpTestData(cls):
        make_feature(
            "Visible", section=make_section("News"), authors=[make_author("Ann Lee")],
            tags=["Leadership"],
        )  # fmt: skip

    def test_pages_link_their_matching_feed_in_the_head(self):
        for page_url, feed in self.pages.items():
            with self.subTest(page=page_url):
                page = Page(fetch(self.client, page_url).content.decode())
                rss = page.alternates(absolute(page_url), "application/rss+xml")
                atom = page.alternates(absolute(page_url), "application/atom+xml")
                assert rss == [absolute(f"{feed}.rss")]
                assert atom == [absolute(f"{feed}.atom")]
                for url in rss + atom:
                    root, _parsed = read_feed(fetch(self.client, url.removeprefix(BASE)))
                    assert titles(root) == ["Visible"]


def test_stored_bodies_get_the_addresses_a_second_cleaning_would_give():
    # Feeds make a stored (clean) body's addresses absolute without parsing it again: the
    # result is what cleaning it again with absolute addresses gives.
    written = [
        '<p><a href="/x?a=1&amp;b=2" title="a > b">x</a> <img src="pics/a b.png" alt="q"> '
        'href="/not-an-attribute"</p>',
        '<p><a title="t" href="../up">u</a> <a href="https://elsewhere.org/">o</a> '
        '<a href="mailto:press@example.org">m</a> <a href="#notes">f</a></p>',
        '<p><a href="/caf\u00e9">c</a><a href="//cdn.example.org/x">p</a>'
        '<img src="/x.png" width="3" height="4"><A HREF="/UP">U</A></p>',
        '<p>1 &lt; 2 <img alt="<a href=&quot;/no&quot;>" src="/yes.png"> a&nbsp;b</p>',
        '<p><a href="javascript:alert(1)">bad</a><script>x</script></p>',
        # A value that reads like an attribute, and one with the characters the cleaner
        # writes as entities.
        '<p><img alt="the src=" src="/m/a.jpg"><a title=" href=" href="b">x</a></p>',
        '<p><a href="/x?a<b>c&d&quot;e\u00a0f\'g" title="a<b>">t</a></p>',
    ]
    base = "https://news.example.org/features/a-feature/"
    for html in written:
        stored = clean_html(html)
        assert absolute_addresses(stored, base) == absolutise_urls(stored, base), stored
    assert absolute_addresses(clean_html(written[0]), base).startswith(
        '<p><a href="https://news.example.org/x?a=1&amp;b=2"'
    )
    assert 'href="/not-an-attribute"' in absolute_addresses(clean_html(written[0]), base)


def test_the_quick_xml_writer_writes_what_djangos_writes():
    elements = [
        ("title", "Fish & chips <hot>", None),
        ("link", "", {"href": 'https://example.org/?a=1&b="2"', "rel": "alternate"}),
        ("category", None, {"term": "Health"}),
        ("guid", "tag:example.org,2009:feature:1", {"isPermaLink": "false"}),
        ("empty", None, None),
        ("description", "‘Quoted’ — café", {}),
    ]
    for short in (True, False):
        written = []
        for writer in (SimplerXMLGenerator, QuickXMLGenerator):
            out = io.StringIO()
            handler = writer(out, "utf-8", short_empty_elements=short)
            handler.startElement("item", {})
            for name, contents, attrs in elements:
                handler.addQuickElement(name, contents, attrs)
            handler.endElement("item")
            written.append(out.getvalue())
        assert written[0] == written[1]
    with pytest.raises(UnserializableContentError):
        QuickXMLGenerator(io.StringIO(), "utf-8").addQuickElement("title", "bell\x07")


def test_feed_methods_are_called_as_the_syndication_framework_calls_them():
    from django.core.exceptions import ImproperlyConfigured

    from feeds.feeds import LatestFeed

    def unwrapped(method):
        def wrapper(*args):
            return method(*args)

        return wrapper

    class Probe(LatestFeed):
        ttl = 30

        def item_title(self, item):
            return f"title of {item}"

        def item_copyright(self):
            return "© us"

        @staticmethod
        def item_comments():
            return "none"

        item_author_name = unwrapped(lambda self, item: "lost")

    feed = Probe()
    for _ in range(2):  # the second time from what was learnt the first
        assert feed._get_dynamic_attr("item_title", "x") == "title of x"
        assert feed._get_dynamic_attr("item_copyright", "x") == "© us"
        assert feed._get_dynamic_attr("item_comments", "x") == "none"
        assert feed._get_dynamic_attr("ttl", "x") == 30
        assert feed._get_dynamic_attr("no_such_thing", "x", "default") == "default"
        with pytest.raises(ImproperlyConfigured):
            feed._get_dynamic_attr("item_author_name", "x")


class EmptiedFeedTests(TestCase):
    def test_deleting_the_last_download_is_the_feeds_last_change(self):
        download = make_download("The only crossword")
        before = fetch(self.client, "/feeds/downloads.rss")
        download.delete()
        after = self.client.get("/feeds/downloads.rss", headers={"If-None-Match": before["ETag"]})
        assert after.status_code == 200
        assert entries(read_feed(after)[0]) == []
        changed = parsedate_to_datetime(after["Last-Modified"])
        assert abs(changed - timezone.now()) < timedelta(minutes=1)
