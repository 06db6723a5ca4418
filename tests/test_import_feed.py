import functools
import io
import tempfile
import threading
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from unittest import mock

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError
from django.test import TestCase
from taggit.models import Tag

from features.models import Author, Byline, Feature, Status
from tests.factories import make_author, make_feature, make_section

FEEDS = Path(__file__).parent / "fixtures" / "feeds"


def run(source, *args):
    """The command's report; `source` is a fixture's name or an address."""
    out = io.StringIO()
    source = source if "://" in source else str(FEEDS / source)
    call_command("import_feed", source, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def counts():
    return {
        "features": Feature.objects.count(),
        "authors": Author.objects.count(),
        "bylines": Byline.objects.count(),
        "tags": Tag.objects.count(),
    }


class Rss2ImportTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        # Created first, so it comes first by id: the default must go by position.
        cls.archive = make_section("Archive", position=5)
        cls.news = make_section("News", position=1)
        cls.ann = make_author("Ann Okafor", job_title="Chief Nurse")
        cls.tomas = make_author("Tomas Reyes")  # not the feed's "Tomás Reyes"
        cls.existing = make_feature("Budgets after the spending review", section=cls.archive)
        cls.output = run("rss2.xml")
        cls.nurses = Feature.objects.get(source_id="old-quarterly:article:101")
        cls.budgets = Feature.objects.get(source_id="https://old.example.org/articles/budgets")
        cls.letters = Feature.objects.get(title="Letters to the editor")

    def test_reports_how_many_it_imported(self):
        assert self.output == "Imported 3 features, skipped 0 already imported.\n"

    def test_imported_features_are_drafts_and_not_live(self):
        imported = Feature.objects.exclude(pk=self.existing.pk)
        assert imported.count() == 3
        assert set(imported.values_list("status", flat=True)) == {Status.DRAFT}
        assert list(Feature.objects.live()) == [self.existing]

    def test_features_go_in_the_first_section_by_position(self):
        assert {self.nurses.section, self.budgets.section, self.letters.section} == {self.news}

    def test_body_is_the_full_content_sanitised(self):
        body = self.nurses.body
        assert "<strong>already busy</strong>" in body
        assert 'href="https://old.example.org/more"' in body
        assert "<script" not in body and "document.cookie" not in body
        assert "onclick" not in body and "steal()" not in body

    def test_body_falls_back_to_the_description(self):
        assert self.budgets.body == "What the spending review means for community services."

    def test_standfirst_is_the_description_as_plain_text(self):
        assert self.nurses.standfirst == (
            "Three ward sisters explain how they changed the way their whole hospital works."
        )

    def test_long_standfirst_is_cut_at_a_word_with_an_ellipsis(self):
        item = ET.parse(FEEDS / "rss2.xml").findall("channel/item")[2]
        description = item.findtext("description")
        standfirst = self.letters.standfirst
        assert len(description) > 600
        assert len(standfirst) <= 600 and standfirst.endswith("…")
        kept = standfirst.removesuffix("…")
        assert description.startswith(kept) and description[len(kept)] == " "
        assert len(kept) > 550

    def test_authors_are_matched_by_name_ignoring_case_or_created(self):
        assert [(b.author, b.position) for b in self.nurses.bylines.all()] == [
            (self.ann, 0),
            (Author.objects.get(name="Tomás Reyes"), 1),
        ]
        assert [b.author for b in self.budgets.bylines.all()] == [self.ann]  # "ANN OKAFOR"
        assert Author.objects.count() == 3
        assert Author.objects.get(name="Tomás Reyes").slug == "tomas-reyes-2"

    def test_an_item_without_authors_has_no_byline(self):
        assert not self.letters.bylines.exists()

    def test_tags_come_from_the_categories(self):
        assert sorted(self.nurses.tags.names()) == ["Leadership", "Nursing"]
        assert list(self.budgets.tags.names()) == ["Finance"]
        assert not self.letters.tags.exists()

    def test_publish_at_is_the_item_date(self):
        assert self.nurses.publish_at == datetime(2009, 3, 4, 10, 30, tzinfo=UTC)
        assert self.budgets.publish_at == datetime(2009, 2, 17, 16, 0, tzinfo=UTC)

    def test_source_id_is_the_guid_else_the_link_else_a_hash(self):
        assert self.letters.source_id.startswith("sha256:")
        assert len(self.letters.source_id) == len("sha256:") + 64

    def test_a_slug_in_use_gets_a_number(self):
        assert self.nurses.slug == "nurses-who-lead-from-the-ward"
        assert self.budgets.slug == "budgets-after-the-spending-review-2"
        self.existing.refresh_from_db()
        assert self.existing.slug == "budgets-after-the-spending-review"

    def test_running_again_creates_nothing(self):
        before = counts()
        output = run("rss2.xml")
        assert output == "Imported 0 features, skipped 3 already imported.\n"
        assert counts() == before

    def test_an_item_edited_since_its_import_is_not_imported_again(self):
        Feature.objects.filter(pk=self.letters.pk).update(title="Your letters", slug="letters")
        Feature.objects.filter(pk=self.nurses.pk).update(title="Ward leaders", slug="ward")
        output = run("rss2.xml")
        assert "Imported 0 features, skipped 3" in output
        assert Feature.objects.filter(title="Letters to the editor").count() == 0


class AtomImportTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_section("Practice")
        cls.ann = make_author("Ann Okafor")
        run("atom.xml")
        cls.bold = Feature.objects.get(source_id="tag:notes.example.com,2008:entry-7")
        cls.less = Feature.objects.get(source_id="tag:notes.example.com,2008:entry-8")
        cls.team = Feature.objects.get(source_id="tag:notes.example.com,2008:entry-9")

    def test_html_title_becomes_plain_text(self):
        assert self.bold.title == "Bold & more"
        assert self.bold.slug == "bold-more"

    def test_text_title_is_kept_as_written(self):
        assert self.less.title == "Less <than> you think"

    def test_two_authors_in_order(self):
        priya = Author.objects.get(name="Priya Natarajan")
        assert [b.author for b in self.bold.bylines.all()] == [priya, self.ann]
        assert [b.position for b in self.bold.bylines.all()] == [0, 1]
        assert [b.author for b in self.less.bylines.all()] == [priya]

    def test_an_entry_without_authors_has_the_feeds(self):
        assert self.team.byline == "The Notes Team"
        assert Author.objects.count() == 3

    def test_body_is_the_content_sanitised_and_standfirst_the_summary(self):
        assert "<h2>Why bold?</h2><p>Because quiet ideas get lost.</p>" in self.bold.body
        assert "iframe" not in self.bold.body and "ads.example.net" not in self.bold.body
        assert self.bold.standfirst == "A short guide to being bold."

    def test_text_summary_is_escaped_in_the_body_and_kept_in_the_standfirst(self):
        assert self.less.standfirst == "Plain text summary with a <tag> in it."
        assert self.less.body == "<p>Plain text summary with a &lt;tag&gt; in it.</p>"

    def test_xhtml_content_without_summary_gives_body_and_standfirst(self):
        assert self.team.body == (
            "<p>We are moving to <em>weekly</em> notes.</p><p>Tell us what you think.</p>"
        )
        assert self.team.standfirst == "We are moving to weekly notes. Tell us what you think."

    def test_tags_use_category_labels_else_terms(self):
        assert sorted(self.bold.tags.names()) == ["Primary care", "Quality improvement"]

    def test_publish_at_is_published_else_updated(self):
        assert self.bold.publish_at == datetime(2008, 11, 18, 7, 15, tzinfo=UTC)
        assert self.less.publish_at == datetime(2008, 11, 20, 12, 0, tzinfo=UTC)
        assert self.team.publish_at == datetime(2008, 11, 21, 18, 0, tzinfo=UTC)

    def test_drafts_not_live(self):
        assert {self.bold.status, self.less.status, self.team.status} == {Status.DRAFT}
        assert not Feature.objects.live().exists()


class Rss1ImportTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_section("Bulletins")
        cls.output = run("rss1.xml")

    def test_each_item_is_a_draft_with_its_author_date_and_tags(self):
        assert self.output == "Imported 2 features, skipped 0 already imported.\n"
        twelve = Feature.objects.get(source_id="https://archive.example.net/bulletin/12")
        eleven = Feature.objects.get(source_id="https://archive.example.net/bulletin/11")
        assert twelve.title == "Bulletin twelve: the winter plan"
        assert twelve.standfirst == "How the hospitals will cope this winter."
        assert twelve.status == Status.DRAFT and eleven.status == Status.DRAFT
        assert twelve.publish_at == datetime(2007, 12, 1, 9, 30, tzinfo=UTC)
        assert eleven.publish_at == datetime(2007, 11, 1, 14, 30, tzinfo=UTC)
        assert list(twelve.tags.names()) == ["Winter planning"]
        martha = Author.objects.get()
        assert martha.name == "Martha Lindqvist" and martha.slug == "martha-lindqvist"
        assert [b.author for b in twelve.bylines.all()] == [martha]
        assert [b.author for b in eleven.bylines.all()] == [martha]


class DateTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_section("Dates")

    def test_odd_dates_import_as_the_right_instant(self):
        errors = io.StringIO()
        call_command("import_feed", str(FEEDS / "dates.xml"), stdout=io.StringIO(), stderr=errors)
        dates = dict(Feature.objects.values_list("title", "publish_at"))
        assert dates == {
            "Named zone": datetime(2003, 6, 10, 14, 41, 1, tzinfo=UTC),
            "No seconds": datetime(2003, 6, 10, 16, 41, tzinfo=UTC),
            "Two-digit year": datetime(1999, 1, 1, 12, 0, tzinfo=UTC),
            "ISO without zone": datetime(2003, 6, 10, 9, 41, 1, tzinfo=UTC),
            "Numeric offset": datetime(2003, 6, 10, 4, 11, 1, tzinfo=UTC),
            "British Summer Time": datetime(2003, 6, 10, 8, 41, 1, tzinfo=UTC),
            "No date at all": None,
            "A date nobody can read": None,
        }
        assert "could not read the date “the Tuesday after Easter”" in errors.getvalue()
        assert "No date at all" not in errors.getvalue()


class EncodingTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_section("World")

    def test_iso_8859_1(self):
        run("latin1.xml")
        feature = Feature.objects.get()
        assert feature.title == "Un café avec l'équipe"
        assert feature.standfirst == "Réunion à 8 h, déjeuner à midi."
        assert feature.byline == "Zoë Brontë"
        assert list(feature.tags.names()) == ["Société"]

    def test_windows_1252(self):
        run("windows-1252.xml")
        feature = Feature.objects.get()
        assert feature.title == "“It’s not over” – a café owner speaks"
        assert feature.standfirst == "She said: “We’ll stay open”…"


class HtmlTitleTests(TestCase):
    def test_markup_in_titles_becomes_plain_text(self):
        make_section("Markup")
        output = io.StringIO()
        call_command("import_feed", str(FEEDS / "html-titles.xml"), verbosity=2, stdout=output)
        titles = dict(Feature.objects.values_list("source_id", "title"))
        # Ids that are not addresses are qualified with the feed's own address.
        assert titles == {
            "https://markup.example.org/#t1": "Bold & more",
            "https://markup.example.org/#t2": "Emphasis and a spaced title",
            "https://markup.example.org/#t3": "Fish & chips",
        }
        # The fourth item repeats the third's guid: it is the same item.
        assert output.getvalue().splitlines() == [
            "Imported “Bold & more” as bold-more",
            "Imported “Emphasis and a spaced title” as emphasis-and-a-spaced-title",
            "Imported “Fish & chips” as fish-chips",
            "Imported 3 features, skipped 1 already imported.",
        ]


class BadFeedTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_section("Desk")

    def assert_refused(self, source, *messages):
        with self.assertRaises(CommandError) as caught:
            run(source)
        for message in messages:
            assert message in str(caught.exception)
        assert counts() == {"features": 0, "authors": 0, "bylines": 0, "tags": 0}

    def test_malformed_xml_is_refused_with_its_line_and_nothing_is_created(self):
        # feedparser's lenient parser would still find both items in this file.
        self.assert_refused(
            "malformed.xml", "malformed.xml is not well-formed XML", "line 15", "mismatched tag"
        )

    def test_an_item_without_a_title_is_refused_and_nothing_is_created(self):
        self.assert_refused("untitled.xml", "Item 2 (untitled-2) has no title")

    def test_a_file_that_is_not_a_feed_is_refused(self):
        with tempfile.NamedTemporaryFile(suffix=".html") as page:
            page.write(b"<!DOCTYPE html><html><body><p>Not a feed.</p></body></html>")
            page.flush()
            self.assert_refused(page.name, "is not an RSS or Atom feed")

    def test_a_missing_file_is_refused(self):
        self.assert_refused(str(FEEDS / "no-such-feed.xml"), "There is no file")

    def test_an_address_that_is_not_http_is_taken_as_a_file(self):
        self.assert_refused("ftp://old.example.org/feed.xml", "There is no file ftp://")

    def test_a_feed_without_items_imports_nothing(self):
        assert run("empty.xml") == "Imported 0 features, skipped 0 already imported.\n"

    def test_a_failure_while_writing_leaves_nothing_behind(self):
        save = Feature.save

        def save_once(feature, *args, **kwargs):
            if Feature.objects.exists():
                raise DatabaseError("disk full")
            save(feature, *args, **kwargs)

        with mock.patch.object(Feature, "save", save_once), self.assertRaises(DatabaseError):
            run("rss2.xml")
        assert counts() == {"features": 0, "authors": 0, "bylines": 0, "tags": 0}


class SectionOptionTests(TestCase):
    def test_section_option_chooses_the_section(self):
        make_section("News", position=0)
        archive = make_section("Archive", position=9)
        run("rss1.xml", "--section", "archive")
        assert set(Feature.objects.values_list("section", flat=True)) == {archive.pk}

    def test_unknown_section_is_refused(self):
        make_section("News")
        with self.assertRaises(CommandError) as caught:
            run("rss1.xml", "--section", "nope")
        assert "There is no section with the slug “nope”" in str(caught.exception)
        assert not Feature.objects.exists()

    def test_no_sections_at_all_is_refused(self):
        with self.assertRaises(CommandError) as caught:
            run("rss1.xml")
        assert "There are no sections" in str(caught.exception)
        assert not Feature.objects.exists()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


class UrlImportTests(TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        handler = functools.partial(QuietHandler, directory=str(FEEDS))
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.address = f"http://127.0.0.1:{cls.server.server_address[1]}"

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()
        super().tearDownClass()

    def test_imports_from_an_http_address(self):
        make_section("Web")
        assert run(f"{self.address}/windows-1252.xml").startswith("Imported 1 feature,")
        assert Feature.objects.get().title == "“It’s not over” – a café owner speaks"

    def test_an_address_that_fails_is_refused(self):
        make_section("Web")
        with self.assertRaises(CommandError) as caught:
            run(f"{self.address}/missing.xml")
        assert "Could not fetch" in str(caught.exception) and "404" in str(caught.exception)


class TwoSitesTests(TestCase):
    def test_two_feeds_with_the_same_bare_guid_both_import_with_absolute_links(self):
        import tempfile

        make_section("News")
        for site in ["https://one.example.org/", "https://two.example.org/"]:
            rss = (
                '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
                f"<link>{site}</link><description>D</description><item><title>Post</title>"
                f'<link>{site}posts/1</link><guid isPermaLink="false">1</guid>'
                '<description>&lt;a href="/more"&gt;more&lt;/a&gt; '
                '&lt;img src="pic.jpg" alt="p"&gt;</description></item></channel></rss>'
            )
            with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False) as handle:
                handle.write(rss)
            call_command("import_feed", handle.name, stdout=io.StringIO())
        bodies = list(Feature.objects.order_by("pk").values_list("body", flat=True))
        assert len(bodies) == 2
        assert 'href="https://one.example.org/more"' in bodies[0]
        assert 'src="https://two.example.org/posts/pic.jpg"' in bodies[1]
