"""Every public page is well-formed HTML with one h1, landmarks and labelled fields."""

from datetime import timedelta
from html.parser import HTMLParser

import html5lib
from django.test import TestCase
from django.utils import timezone

from features.models import DownloadCategory, Status
from tests.factories import make_author, make_download, make_feature, make_section

PAGES = [
    "/", "/features/", "/features/leading-on-leadership/", "/sections/features/",
    "/authors/pippa-gough/", "/tags/leadership/", "/downloads/", "/search/",
    "/search/?q=leadership", "/search/?q=nothing-matches-this", "/feeds/",
    "/features/no-such-page/", "/features/withdrawn-piece/",
]  # fmt: skip


class PageOutline(HTMLParser):
    """What an accessibility check looks for first."""

    def __init__(self):
        super().__init__()
        self.h1 = 0
        self.landmarks = set()
        self.labels = set()
        self.fields = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "h1":
            self.h1 += 1
        if tag in {"main", "header", "footer", "nav"}:
            self.landmarks.add(tag)
        if tag == "label" and attrs.get("for"):
            self.labels.add(attrs["for"])
        if tag in {"input", "select", "textarea"} and attrs.get("type") != "hidden":
            self.fields.append(attrs)


class HtmlTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        section = make_section("Features")
        authors = [
            make_author("Pippa Gough", job_title="Assistant Director", organisation="The Trust"),
            make_author("Abigail Masterson", job_title="Assistant Director"),
        ]
        feature = make_feature(
            "Leading on leadership", section=section, authors=authors, tags=["Leadership"]
        )
        feature.downloads.add(make_download("Crossword", category=DownloadCategory.CROSSWORD))
        make_feature("Withdrawn piece", section=section, status=Status.WITHDRAWN)
        make_feature("Later", section=section, publish_at=timezone.now() + timedelta(days=1))

    def test_pages_parse_without_html_errors(self):
        parser = html5lib.HTMLParser(strict=True)
        for url in PAGES:
            with self.subTest(url=url):
                response = self.client.get(url)
                assert response.status_code in {200, 404, 410}
                parser.parse(response.content.decode())  # raises on the first parse error

    def test_one_h1_landmarks_and_labelled_fields(self):
        for url in PAGES:
            with self.subTest(url=url):
                outline = PageOutline()
                outline.feed(self.client.get(url).content.decode())
                assert outline.h1 == 1
                assert {"main", "header", "footer", "nav"} <= outline.landmarks
                for field in outline.fields:
                    labelled = field.get("id") in outline.labels or field.get("aria-label")
                    assert labelled, field

    def test_pages_have_a_skip_link_to_main(self):
        for url in PAGES:
            with self.subTest(url=url):
                self.assertContains(
                    self.client.get(url),
                    '<a class="skip-link" href="#main">',
                    status_code=self.client.get(url).status_code,
                )
