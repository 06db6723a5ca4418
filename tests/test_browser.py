"""
The editorial journey and the public pages in a real browser: Debian's Chromium driven by
Playwright, with axe-core checking every page type against WCAG 2.2 AA.

Screenshots of every step go to test-artifacts/<test name>/ so a failure can be seen.
"""

import io
import json
import os
import re
import shutil
import tempfile
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from pathlib import Path

import pytest
import reversion
from django.conf import settings
from django.contrib.staticfiles.testing import StaticLiveServerTestCase
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connections
from django.db.models import F
from django.test import Client
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect, sync_playwright
from reversion.models import Version
from taggit.models import Tag

from features import workflow
from features.models import DownloadCategory, Feature, PreviewLink, Status
from tests.conftest import need
from tests.factories import (
    jpeg_bytes,
    make_author,
    make_co_authors,
    make_download,
    make_feature,
    make_section,
    make_user,
    pdf_bytes,
)

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PASSWORD = "a-long-test-password"
TIMEOUT_MS = 15_000
# Any control that publishes: "Publish", "Force publish", "Unpublish"…
PUBLISHING = re.compile("publish", re.IGNORECASE)
expect.set_options(timeout=10_000)

# Violations fail the test. What axe could not decide ("incomplete": contrast over an image,
# say) is written to the test's artifacts folder for a person to review.
RUN_AXE = """async (tags) => {
  const results = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  const summary = (v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => n.target.join(" ") + " — "
                              + (n.failureSummary || "").replace(/\\s+/g, " ")),
  });
  return {violations: results.violations.map(summary),
          incomplete: results.incomplete.map(summary)};
}"""


def jpeg_file(folder, size=(1200, 675)):
    """A real JPEG on disk, as a user would pick it in a file chooser."""
    path = Path(folder) / "lighthouse.jpg"
    image = Image.new("RGB", size, "#1d4f73")
    for x in range(0, size[0], 40):
        image.paste("#f2c14e", (x, size[1] // 2, x + 20, size[1] // 2 + 20))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    path.write_bytes(buffer.getvalue())
    return path


class BrowserTestCase(StaticLiveServerTestCase):
    """One Chromium per class; a fresh browser context per user in each test."""

    # The Writers and Editors groups come from a data migration: each test starts from the
    # migrated rows (a live server needs real commits, so these are TransactionTestCases).
    serialized_rollback = True

    @classmethod
    def setUpClass(cls):
        if not CHROMIUM.exists():
            need(
                f"needs Chromium at {CHROMIUM} (apt-get install chromium; bash .ci/run does); "
                "`playwright install` is not used"
            )
        if not AXE_SCRIPT.exists():
            need(f"needs axe-core at {AXE_SCRIPT.relative_to(ROOT)} (npm ci; bash .ci/run does)")
        cls.axe_source = AXE_SCRIPT.read_text()
        # Playwright's sync API marks an event loop as running in this thread between its
        # calls; the ORM calls the tests make between browser steps are still synchronous.
        cls._async_unsafe = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        cls.migrated_rows = {
            alias: connections[alias]._test_serialized_contents
            for alias in connections
            if hasattr(connections[alias], "_test_serialized_contents")
        }
        cls.playwright = sync_playwright().start()
        # ...and runs our code in a context of its own, where Django opens new connection
        # objects: give them the rows that serialized_rollback restores before each test.
        for alias, rows in cls.migrated_rows.items():
            connections[alias]._test_serialized_contents = rows
        try:
            cls.browser = cls.playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            super().setUpClass()
        except BaseException:
            cls._stop_browser()
            raise

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls._stop_browser()
        # Leave the database as migrated (the last test's flush emptied it) for the
        # transactional tests that run after these.
        for alias, rows in cls.migrated_rows.items():
            connections[alias].creation.deserialize_db_from_string(rows)

    @classmethod
    def _fixture_setup(cls):
        # Start empty, whatever ran before: another TransactionTestCase's flush re-creates
        # content types and permissions under new ids, which the restored rows would clash with.
        for alias in cls._databases_names(include_mirrors=False):
            call_command(
                "flush", verbosity=0, interactive=False, database=alias, inhibit_post_migrate=True
            )
        super()._fixture_setup()

    @classmethod
    def _stop_browser(cls):
        if getattr(cls, "browser", None) is not None:
            cls.browser.close()
        cls.playwright.stop()
        if cls._async_unsafe is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = cls._async_unsafe

    def setUp(self):
        self.artifacts = ARTIFACTS / self._testMethodName
        shutil.rmtree(self.artifacts, ignore_errors=True)
        self.artifacts.mkdir(parents=True)
        self.step = 0
        self.contexts = []
        self.tmp = tempfile.mkdtemp(prefix="newsroom-browser-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def tearDown(self):
        for context in self.contexts:
            context.close()

    def _callTestMethod(self, method):
        """A step that fails leaves a screenshot of every page still open."""
        try:
            method()
        except BaseException:
            self.shoot_open_pages("failed")
            raise

    def shoot_open_pages(self, name):
        for number, context in enumerate(self.contexts, start=1):
            for page in context.pages:
                try:
                    self.shot(page, f"{name}-browser-{number}")
                except Exception:  # noqa: S112 - a page that cannot be drawn any more
                    continue

    # Helpers.

    def url(self, path):
        return self.live_server_url + path

    def new_page(self, user=None, **options):
        """A page in a browser context of its own: its own cookies, as another person's."""
        context = self.browser.new_context(accept_downloads=True, **options)
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        if user is not None:
            client = Client()
            client.force_login(user)
            cookie = client.cookies[settings.SESSION_COOKIE_NAME]
            context.add_cookies(
                [{"name": cookie.key, "value": cookie.value, "url": self.live_server_url}]
            )
        return context.new_page()

    def shot(self, page, name, full_page=True):
        self.step += 1
        page.screenshot(path=self.artifacts / f"{self.step:02d}-{name}.png", full_page=full_page)

    def log_in(self, page, username):
        """Through the real login form."""
        page.goto(self.url("/admin/login/?next=/admin/"))
        expect(page).to_have_title(re.compile("^Log in"))
        expect(page.get_by_role("link", name="Newsroom editorial")).to_be_visible()
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        self.shot(page, "login")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="What needs attention")).to_be_visible()

    def choose(self, page, select_id, search, option):
        """Pick a value in an admin autocomplete (select2) widget, as a user does."""
        page.locator(f"#{select_id} + .select2").click()
        field = page.locator(".select2-container--open .select2-search__field")
        field.fill(search)
        page.locator(".select2-results__option", has_text=option).first.click()
        expect(page.locator(f"#{select_id} + .select2")).to_contain_text(option)

    def axe_violations(self, page, name):
        """
        What axe finds wrong, and what it could not decide but rates critical (an ARIA
        reference to nothing, say). Its other undecided results (contrast over what it cannot
        see through, a table of headings in Django's navigation) are written to
        axe-to-review.json in the artifacts folder for a person to look at.
        """
        page.evaluate(self.axe_source)
        results = page.evaluate(RUN_AXE, WCAG_TAGS)
        critical = [item for item in results["incomplete"] if item["impact"] == "critical"]
        review = [item for item in results["incomplete"] if item["impact"] != "critical"]
        if review:
            path = self.artifacts / "axe-to-review.json"
            found = json.loads(path.read_text()) if path.exists() else {}
            found[f"{name} ({page.url})"] = review
            path.write_text(json.dumps(found, indent=2, ensure_ascii=False))
        return results["violations"] + critical

    def check_pages_with_axe(self, page, pages):
        """Open each (name, path, expected status, visible text) and collect what axe finds."""
        found = {}
        for name, path, status, text in pages:
            response = page.goto(self.url(path))
            assert response.status == status, (path, response.status)
            expect(page.locator("main").first).to_contain_text(text)
            self.shot(page, name)
            violations = self.axe_violations(page, name)
            if violations:
                found[f"{name} ({path})"] = violations
        assert not found, "axe found WCAG 2.2 AA violations:\n" + json.dumps(
            found, indent=2, ensure_ascii=False
        )

    def assert_no_violations(self, page, name):
        self.shot(page, name)
        violations = self.axe_violations(page, name)
        assert not violations, f"axe found WCAG 2.2 AA violations on {name} ({page.url}):\n" + (
            json.dumps(violations, indent=2, ensure_ascii=False)
        )


def make_public_site(test):
    """Every kind of public page, with the parts that could trouble a reader."""
    test.section = make_section(
        "Features", description="Longer reads from across the organisation.", position=1
    )
    test.opinion = make_section("Opinion", position=2)
    test.gough, test.masterson = make_co_authors(
        bio="Pippa leads the foundation’s work on clinical quality."
    )
    test.gough.photo.save("gough.jpg", ContentFile(jpeg_bytes((240, 320), "#6b4f3a")), save=False)
    test.gough.photo_alt = "Pippa Gough, smiling"
    test.gough.save()
    test.report = make_download(
        "Leadership report 2009",
        content=pdf_bytes(3),
        filename="report.pdf",
        description="The full report, with its tables.",
    )
    test.crossword = make_download(
        "Crossword 12", category=DownloadCategory.CROSSWORD, description="A cryptic crossword."
    )
    test.feature = make_feature(
        "Quality improvement: what the Shine programme has taught us about leadership",
        slug="shine-leadership",
        section=test.section,
        authors=[test.gough, test.masterson],
        tags=["Leadership", "Clinical quality"],
        standfirst="Leaders who improve care make room for others to lead.",
        body=(
            "<p>Improvement is a team sport. <a href='https://example.org/shine'>Shine</a> "
            "funded 40 teams.</p><h2>What we learnt</h2><ul><li>Start small</li>"
            "<li>Measure what matters</li></ul><blockquote><p>Leaders hold the space.</p>"
            "</blockquote>"
        ),
        hero_image_alt="A ward at dawn, empty beds in a row",
        hero_image_credit="The Health Foundation",
    )
    test.feature.hero_image.save(
        "ward.jpg", ContentFile(jpeg_bytes((1200, 675), "#335577")), save=True
    )
    test.feature.downloads.add(test.report)
    # A corrected report: the downloads page lists the earlier file too.
    test.report.file.save("report.pdf", ContentFile(pdf_bytes(4)), save=True)
    make_feature(
        "Why we publish our board papers",
        section=test.opinion,
        authors=[test.masterson],
        tags=["Governance"],
    )
    # Enough features for the lists to have a second page.
    for number in range(1, 13):
        make_feature(f"Opinion piece {number}", section=test.opinion, authors=[test.masterson])
    test.withdrawn = make_feature(
        "A story we withdrew",
        section=test.section,
        status=Status.WITHDRAWN,
        publish_at=None,
        withdrawal_notice="This feature named a patient without consent.",
    )
    test.draft = make_feature(
        "Coming soon: the new board",
        section=test.section,
        authors=[test.gough],
        status=Status.DRAFT,
    )
    test.editor = make_user("editor", group="Editors", first_name="Eve", last_name="Editor")


PUBLIC_PAGES = [
    ("home", "/", 200, "Latest features"),
    ("feature-list", "/features/", 200, "Older"),
    ("feature", "/features/shine-leadership/", 200, "What we learnt"),
    ("section", "/sections/features/", 200, "Longer reads"),
    ("author", "/authors/pippa-gough/", 200, "Features by Pippa Gough"),
    ("tag", "/tags/leadership/", 200, "Features tagged"),
    ("downloads", "/downloads/", 200, "Earlier versions of Leadership report 2009"),
    ("search-results", "/search/?q=leadership", 200, "1 result for “leadership”"),
    ("search-none", "/search/?q=zebras", 200, "No features match"),
    ("feeds", "/feeds/", 200, "News feeds"),
    ("not-found", "/no-such-page/", 404, "Page not found"),
    ("withdrawn", "/features/a-story-we-withdrew/", 410, "This feature has been withdrawn"),
    ("accessibility", "/accessibility/", 200, "Enforcement procedure"),
]


# Numbers every visible stop a keyboard user can reach, in the page's reading order, and
# remembers how each looks before it is focused.
MARK_FOCUSABLE = """() => {
  const look = (el) => {
    const s = getComputedStyle(el);
    return [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow, s.backgroundColor,
            s.color].join("|");
  };
  const selector = "a[href], button, input:not([type=hidden]), select, textarea, summary, "
    + "[tabindex]:not([tabindex='-1'])";
  // Inside a closed <details>, only the summary can be reached until it is opened.
  const folded = (el) => el.tagName !== "SUMMARY" && el.closest("details:not([open])");
  const stops = [...document.querySelectorAll(selector)].filter(
    (el) => !el.disabled && el.getClientRects().length && !folded(el)
            && getComputedStyle(el).visibility !== "hidden");
  stops.forEach((el, i) => { el.dataset.stop = i; el.dataset.look = look(el); });
  return stops.map((el) => el.tagName.toLowerCase() + " "
                           + JSON.stringify((el.textContent || el.name || "").trim().slice(0, 30)));
}"""
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el.dataset.stop === undefined) return null;
  const s = getComputedStyle(el);
  const now = [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow, s.backgroundColor,
               s.color].join("|");
  const box = el.getBoundingClientRect();
  return {stop: Number(el.dataset.stop), changed: now !== el.dataset.look,
          outline: s.outlineStyle, width: parseFloat(s.outlineWidth),
          text: (el.textContent || el.name || "").trim().slice(0, 40),
          inView: box.bottom > 0 && box.top < innerHeight && box.right > 0
                  && box.left < innerWidth};
}"""


class EditorialJourneyTests(BrowserTestCase):
    def setUp(self):
        super().setUp()
        self.section = make_section("Features")
        self.gough, self.masterson = make_co_authors()
        self.pdf = pdf_bytes(2)
        self.crossword = make_download(
            "Crossword 12", category=DownloadCategory.CROSSWORD, content=self.pdf,
            filename="crossword-12.pdf",
        )  # fmt: skip
        Tag.objects.create(name="Leadership", slug="leadership")
        self.writer = make_user("wendy", group="Writers", first_name="Wendy", last_name="Writer")
        self.editor = make_user("eve", group="Editors", first_name="Eve", last_name="Editor")
        self.other_editor = make_user("ed", group="Editors", first_name="Ed", last_name="Other")

    def test_writer_submits_and_editor_previews_and_publishes(self):
        title = "Leading on leadership"
        writer = self.new_page()
        self.log_in(writer, "wendy")
        # The writer has nothing waiting yet.
        expect(writer.get_by_role("heading", name="Your features in review")).to_be_visible()
        self.shot(writer, "writer-index")

        writer.goto(self.url("/admin/features/feature/add/"))
        expect(writer.get_by_role("heading", name="Add feature")).to_be_visible()
        expect(writer.get_by_role("heading", name="Workflow")).to_have_count(0)
        writer.get_by_label("Title:").press_sequentially(title)
        expect(writer.get_by_label("Slug:")).to_have_value("leading-on-leadership")
        self.choose(writer, "id_section", "Feat", "Features")
        writer.get_by_label("Standfirst:").fill("What leadership for improvement looks like.")
        body = writer.locator(".prose-editor [contenteditable=true]")
        body.click()
        writer.keyboard.type("Leaders hold the space for others to lead.")
        self.choose(writer, "id_tags", "Lead", "Leadership")
        writer.get_by_label("New tags:").fill("Clinical quality, Patient safety")
        writer.get_by_label("Hero image:").set_input_files(jpeg_file(self.tmp))
        writer.get_by_label("Hero image alt text:").fill("A lighthouse at dusk")
        writer.get_by_label("Hero image credit:").fill("Wendy Writer")
        self.choose(writer, "id_downloads", "Cross", "Crossword 12")
        # Two co-authors, in order.
        writer.get_by_role("button", name="Add another Author").click()
        writer.get_by_role("button", name="Add another Author").click()
        writer.locator("#id_bylines-0-position").fill("0")
        self.choose(writer, "id_bylines-0-author", "Gough", "Pippa Gough")
        writer.locator("#id_bylines-1-position").fill("1")
        self.choose(writer, "id_bylines-1-author", "Master", "Abigail Masterson")
        self.shot(writer, "feature-filled-in")

        writer.get_by_role("button", name="Save and continue editing").click()
        expect(writer.locator(".messagelist")).to_contain_text("was added successfully")
        workflow_box = writer.locator("fieldset.workflow")
        expect(workflow_box).to_contain_text("Status: Draft")
        expect(workflow_box.get_by_role("link", name="Submit for review")).to_be_visible()
        # A writer is never offered publishing.
        expect(writer.get_by_role("link", name=PUBLISHING)).to_have_count(0)
        expect(writer.get_by_role("button", name=PUBLISHING)).to_have_count(0)
        expect(writer.get_by_role("link", name="Preview", exact=True)).to_be_visible()
        self.shot(writer, "saved-as-draft")
        feature = Feature.objects.get(title=title)
        assert [b.author.name for b in feature.bylines.all()] == [
            "Pippa Gough",
            "Abigail Masterson",
        ]
        assert sorted(feature.tags.names()) == ["Clinical quality", "Leadership", "Patient safety"]
        assert feature.hero_image_alt == "A lighthouse at dusk"
        assert list(feature.downloads.all()) == [self.crossword]

        workflow_box.get_by_role("link", name="Submit for review").click()
        expect(writer.get_by_role("heading", name=f"Submit for review: {title}")).to_be_visible()
        expect(writer.locator("#content-main")).to_contain_text(f"“{title}” is draft")
        self.shot(writer, "confirm-submit")
        writer.get_by_role("button", name="Submit for review").click()
        expect(writer.locator(".messagelist")).to_contain_text("It is now In review")
        expect(writer.locator("fieldset.workflow")).to_contain_text("Status: In review")
        expect(writer.get_by_role("link", name=PUBLISHING)).to_have_count(0)
        expect(writer.get_by_role("button", name="Save", exact=True)).to_have_count(0)
        self.shot(writer, "submitted")

        # An editor finds it waiting for review.
        editor = self.new_page()
        self.log_in(editor, "eve")
        waiting = editor.locator(
            ".attention div", has=editor.get_by_role("link", name="Awaiting review")
        )
        expect(waiting).to_contain_text("(1)")
        self.shot(editor, "editor-index")
        # The list of features in review has it too, with its authors.
        editor.goto(self.url("/admin/features/feature/?state=in_review"))
        row = editor.get_by_role("row", name=re.compile(title))
        expect(row).to_contain_text("Pippa Gough, Abigail Masterson")
        expect(row).to_contain_text("In review")
        self.shot(editor, "review-list")
        editor.goto(self.url("/admin/"))
        waiting.get_by_role("link", name=title).click()
        expect(editor.locator("fieldset.workflow")).to_contain_text("Status: In review")
        for label in ["Send back", "Publish", "Force publish"]:
            expect(editor.get_by_role("link", name=label, exact=True)).to_have_count(
                0 if label == "Force publish" else 1
            )
        self.shot(editor, "editor-change-page")
        change_url = editor.url

        editor.get_by_role("link", name="Preview", exact=True).click()
        expect(editor).to_have_url(self.url(feature.get_absolute_url()))
        expect(editor.locator(".preview-banner")).to_contain_text("Preview — not published")
        expect(editor.get_by_role("heading", level=1)).to_have_text(title)
        expect(editor.locator(".feature__hero img")).to_have_attribute(
            "alt", "A lighthouse at dusk"
        )
        assert editor.locator(".feature__hero img").evaluate("img => img.naturalWidth") > 0
        self.shot(editor, "editor-preview")

        # A preview link for someone without an account.
        editor.goto(change_url)
        editor.get_by_role("button", name="Add another Preview link").click()
        editor.locator("#id_preview_links-0-note").fill("Pippa Gough, to check her quotes")
        editor.get_by_role("button", name="Save and continue editing").click()
        expect(editor.locator(".messagelist")).to_contain_text("was changed successfully")
        address = editor.get_by_label("Preview address")
        expect(address).to_have_value(re.compile(r"^/preview/[^/]+/$"))
        expect(editor.locator("#preview_links-group")).to_contain_text("Active until")
        self.shot(editor, "preview-link-made")
        preview_path = address.input_value()

        guest = self.new_page()
        response = guest.goto(self.url(preview_path))
        assert response.status == 200
        expect(guest.locator(".preview-banner")).to_contain_text("Preview — not published")
        expect(guest.locator(".preview-banner")).to_contain_text("This preview address stops")
        expect(guest.get_by_role("heading", level=1)).to_have_text(title)
        self.shot(guest, "guest-preview")
        anonymous = self.new_page()
        assert anonymous.goto(self.url(feature.get_absolute_url())).status == 404
        expect(anonymous.get_by_role("heading", level=1)).to_have_text("Page not found")
        self.shot(anonymous, "anonymous-not-found")

        # The editor publishes it.
        editor.goto(change_url)
        editor.get_by_role("link", name="Publish", exact=True).click()
        expect(editor.get_by_role("heading", name=f"Publish: {title}")).to_be_visible()
        expect(editor.get_by_label("Now")).to_be_checked()
        self.shot(editor, "confirm-publish")
        editor.get_by_role("button", name="Publish").click()
        expect(editor.locator(".messagelist")).to_contain_text("It is now Published")
        expect(
            editor.locator(".object-tools").get_by_role("link", name="View on site")
        ).to_be_visible()
        self.shot(editor, "published")

        # Readers see it everywhere.
        reader = self.new_page()
        reader.goto(self.url("/"))
        expect(reader.locator(".home__latest")).to_contain_text(title)
        expect(reader.locator(".home__latest")).to_contain_text(
            "Pippa Gough and Abigail Masterson, Assistant Directors in Clinical Quality at the "
            "Health Foundation"
        )
        self.shot(reader, "home")
        reader.get_by_role("link", name=title).click()
        expect(reader).to_have_url(self.url("/features/leading-on-leadership/"))
        expect(reader.locator(".preview-banner")).to_have_count(0)
        expect(reader.locator(".byline")).to_have_text(
            "Pippa Gough and Abigail Masterson, Assistant Directors in Clinical Quality at the "
            "Health Foundation"
        )
        expect(reader.locator(".feature__body")).to_contain_text("Leaders hold the space")
        hero = reader.locator(".feature__hero img")
        expect(hero).to_have_attribute("alt", "A lighthouse at dusk")
        expect(reader.locator(".tags")).to_contain_text("Clinical quality")
        self.shot(reader, "feature")

        with reader.expect_download() as download_info:
            reader.locator(".downloads").get_by_role(
                "link", name=re.compile("Crossword 12")
            ).click()
        download = download_info.value
        self.shot(reader, "downloaded")
        assert download.suggested_filename.endswith(".pdf")
        assert Path(download.path()).read_bytes() == self.pdf

        reader.get_by_role("link", name="Leadership").click()
        expect(reader).to_have_url(self.url("/tags/leadership/"))
        expect(reader.get_by_role("heading", level=1)).to_have_text("Features tagged “Leadership”")
        expect(reader.locator("main")).to_contain_text(title)
        self.shot(reader, "tag")

        response = reader.goto(self.url("/feeds/latest.rss"))
        assert response.status == 200
        items = ET.fromstring(response.body()).findall("./channel/item")
        assert [item.findtext("title") for item in items] == [title]
        assert items[0].findtext("link").endswith("/features/leading-on-leadership/")
        # A feed is an XML document (styled by feed.css): it has no page height to measure.
        self.shot(reader, "feed", full_page=False)

    def test_editor_schedules_a_feature_that_goes_live_by_itself(self):
        title = "Open day at the new wing"
        feature = make_feature(
            title, section=self.section, authors=[self.gough], status=Status.DRAFT,
            created_by=self.writer, tags=["Leadership"],
        )  # fmt: skip
        workflow.submit(feature, by=self.writer)
        publish_path = f"/admin/features/feature/{feature.pk}/workflow/publish/"

        # The writer cannot publish, not even by going to the address or posting to it.
        writer = self.new_page(self.writer)
        writer.goto(self.url(publish_path))
        expect(writer.locator(".messagelist")).to_contain_text("Only editors can publish")
        expect(writer.get_by_role("button", name="Publish")).to_have_count(0)
        self.shot(writer, "writer-refused")
        token = next(c["value"] for c in writer.context.cookies() if c["name"] == "csrftoken")
        writer.request.post(
            self.url(publish_path),
            form={"csrfmiddlewaretoken": token, "version": str(feature.version), "when": "now"},
            headers={"Referer": self.url(publish_path)},
        )
        feature.refresh_from_db()
        assert feature.status == Status.IN_REVIEW

        # The editor schedules it a few seconds ahead, in UK time.
        editor = self.new_page(self.editor)
        editor.goto(self.url(publish_path))
        expect(editor.get_by_role("heading", name=f"Publish: {title}")).to_be_visible()
        editor.get_by_label("At a later time (schedule)").check()
        # To the second, as the time box takes it.
        moment = (timezone.localtime() + timedelta(seconds=12)).replace(microsecond=0)
        editor.locator("#id_publish_at_0").fill(moment.strftime("%d/%m/%Y"))
        editor.locator("#id_publish_at_1").fill(moment.strftime("%H:%M:%S"))
        self.shot(editor, "confirm-schedule")
        editor.get_by_role("button", name="Publish").click()
        expect(editor.locator(".messagelist")).to_contain_text("is scheduled to go live at")
        expect(editor.locator("fieldset.workflow")).to_contain_text("Published, scheduled for")
        self.shot(editor, "scheduled")
        feature.refresh_from_db()
        assert feature.status == Status.PUBLISHED
        assert feature.publish_at == moment

        # Until then readers see nothing of it...
        reader = self.new_page()
        reader.goto(self.url("/"))
        expect(reader.locator("main")).to_contain_text("Latest features")
        expect(reader.locator("main")).not_to_contain_text(title)
        assert reader.goto(self.url(feature.get_absolute_url())).status == 404
        self.shot(reader, "before-go-live")
        # ...and then it is live everywhere, with nobody pressing a button.
        deadline = moment + timedelta(seconds=20)
        while title not in reader.locator("main").inner_text():
            assert timezone.now() < deadline, "the scheduled feature never went live"
            reader.wait_for_timeout(1000)
            reader.goto(self.url("/"))
        assert timezone.now() >= moment
        self.shot(reader, "after-go-live")
        assert reader.goto(self.url(feature.get_absolute_url())).status == 200
        expect(reader.get_by_role("heading", level=1)).to_have_text(title)
        self.shot(reader, "feature-live")
        reader.goto(self.url("/tags/leadership/"))
        expect(reader.locator("main")).to_contain_text(title)
        self.shot(reader, "tag-live")
        response = reader.goto(self.url("/feeds/latest.rss"))
        titles = [item.findtext("title") for item in ET.fromstring(response.body()).iter("item")]
        assert titles == [title]

    def test_second_editor_saving_a_stale_form_sees_both_versions(self):
        feature = make_feature(
            "Board papers", section=self.section, authors=[self.gough], status=Status.DRAFT,
            standfirst="Why we publish them.",
        )  # fmt: skip
        change_path = f"/admin/features/feature/{feature.pk}/change/"
        first = self.new_page(self.editor)
        second = self.new_page(self.other_editor)
        for page in (first, second):
            page.goto(self.url(change_path))
            expect(page.get_by_label("Standfirst:")).to_have_value("Why we publish them.")
        self.shot(first, "first-editor-opens")

        first.get_by_label("Standfirst:").fill("Why we publish every board paper.")
        second.get_by_label("Standfirst:").fill("Openness builds trust: our board papers.")
        self.shot(second, "second-editor-edits")

        first.get_by_role("button", name="Save and continue editing").click()
        expect(first.locator(".messagelist")).to_contain_text("was changed successfully")
        self.shot(first, "first-editor-saved")

        second.get_by_role("button", name="Save and continue editing").click()
        expect(second.get_by_role("heading", level=1)).to_contain_text(
            "was changed by someone else"
        )
        expect(second.get_by_role("alert")).to_contain_text("Your changes were not saved")
        expect(second.get_by_role("alert")).to_contain_text("Eve Editor saved this feature")
        theirs = second.get_by_label("Standfirst, saved version")
        yours = second.get_by_label("Standfirst, your version")
        expect(theirs).to_have_value("Why we publish every board paper.")
        expect(yours).to_have_value("Openness builds trust: our board papers.")
        expect(second.get_by_role("row", name=re.compile("Standfirst"))).to_contain_text("differs")
        self.shot(second, "conflict")

        feature.refresh_from_db()
        assert feature.standfirst == "Why we publish every board paper."
        second.get_by_role("link", name="Open the current version").last.click()
        expect(second.get_by_label("Standfirst:")).to_have_value(
            "Why we publish every board paper."
        )
        self.shot(second, "current-version")


class PublicPageAccessibilityTests(BrowserTestCase):
    def setUp(self):
        super().setUp()
        make_public_site(self)

    def test_public_pages_have_no_axe_violations(self):
        page = self.new_page()
        self.check_pages_with_axe(page, PUBLIC_PAGES)
        staff = self.new_page(self.editor)
        self.check_pages_with_axe(
            staff, [("preview", self.draft.get_absolute_url(), 200, "Preview — not published")]
        )
        link = PreviewLink.objects.create(feature=self.draft, note="A guest")
        self.check_pages_with_axe(
            self.new_page(),
            [("preview-link", link.get_absolute_url(), 200, "This preview address stops")],
        )

    def test_a_failing_step_leaves_a_screenshot_of_every_open_page(self):
        self.new_page().goto(self.url("/"))
        self.new_page().goto(self.url("/feeds/"))

        def failing_step():
            raise AssertionError("a step failed")

        with pytest.raises(AssertionError, match="a step failed"):
            self._callTestMethod(failing_step)
        shots = sorted(path.name for path in self.artifacts.glob("*-failed-*.png"))
        assert shots == ["01-failed-browser-1.png", "02-failed-browser-2.png"]
        assert all((self.artifacts / name).stat().st_size > 1000 for name in shots)

    def test_skip_link_comes_first_and_moves_focus_to_main(self):
        page = self.new_page()
        for name, path in self.every_page():
            page.goto(self.url(path))
            page.keyboard.press("Tab")
            focused = page.locator(":focus")
            expect(focused).to_have_text("Skip to main content")
            expect(focused).to_be_in_viewport()
            self.shot(page, f"{name}-skip-link")
            page.keyboard.press("Enter")
            assert page.evaluate("document.activeElement.id") == "main", path
            # Only the skip link is highlighted: the main content does not change colour.
            assert page.evaluate("getComputedStyle(document.activeElement).backgroundColor") in {
                "rgba(0, 0, 0, 0)",
                "rgb(255, 255, 255)",
            }
            self.shot(page, f"{name}-main-focused")
            # The next Tab goes on from the main content, not back to the header.
            page.keyboard.press("Tab")
            assert page.evaluate("document.querySelector('main').contains(document.activeElement)")

    def test_a_reader_searches_and_opens_a_result_by_keyboard_alone(self):
        page = self.new_page()
        page.goto(self.url("/"))
        for _ in range(10):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.type") == "search":
                break
        expect(page.locator(":focus")).to_have_attribute("name", "q")
        page.keyboard.type("leadership")
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"/search/\?q=leadership$"))
        expect(page.locator("main h2").first).to_have_text("1 result for “leadership”")
        self.shot(page, "search-by-keyboard")
        title = "Quality improvement: what the Shine programme has taught us about leadership"
        for _ in range(40):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.textContent.trim()") == title:
                break
        self.shot(page, "result-focused")
        page.keyboard.press("Enter")
        expect(page).to_have_url(self.url("/features/shine-leadership/"))
        expect(page.get_by_role("heading", level=1)).to_have_text(title)

    def test_every_page_works_by_keyboard_in_a_logical_order(self):
        """
        Tab from the top of each page type: the skip link comes first, every stop after it
        follows the page's reading order, is scrolled into view and is visibly marked.
        """
        pages = self.every_page()
        page = self.new_page()
        problems = []
        for name, path in pages:
            page.goto(self.url(path))
            stops = page.evaluate(MARK_FOCUSABLE)
            order = []
            for _ in range(len(stops) + 1):
                page.keyboard.press("Tab")
                result = page.evaluate(FOCUSED)
                # Out of the page (into the browser's own controls, or round to the top).
                if result is None or result["stop"] in order:
                    break
                order.append(result["stop"])
                if not (result["changed"] and result["outline"] != "none"
                        and result["width"] >= 2):  # fmt: skip
                    problems.append(f"{path}: no visible focus on {result['text']!r}")
                if not result["inView"]:
                    problems.append(f"{path}: {result['text']!r} is focused out of view")
                if len(order) == 3:
                    self.shot(page, f"{name}-keyboard")
            if order[:1] != [0]:
                problems.append(f"{path}: the skip link is not the first stop")
            if order != sorted(order):
                problems.append(f"{path}: Tab goes out of reading order: {order}")
            missed = [stops[n] for n in range(len(stops)) if n not in order]
            if missed:
                problems.append(f"{path}: Tab never reaches {missed}")
        assert not problems, "\n".join(problems)

    def reflow(self, width, height, scale, pages, with_axe=False):
        page = self.new_page(viewport={"width": width, "height": height}, device_scale_factor=scale)
        problems = []
        for name, path in pages:
            page.goto(self.url(path))
            self.shot(page, f"{name}-{width}px")
            measured = page.evaluate(
                """() => {
                  const width = document.documentElement.clientWidth;
                  const overflowing = [...document.querySelectorAll("main *, header *, footer *")]
                    .filter((el) => el.getClientRects().length && el.offsetWidth > 1
                                    && el.getBoundingClientRect().right > width + 1)
                    .map((el) => el.tagName.toLowerCase() + "." + el.className);
                  return {scrollWidth: document.documentElement.scrollWidth, width,
                          overflowing: overflowing.slice(0, 5)};
                }"""
            )
            if measured["scrollWidth"] > width or measured["overflowing"]:
                problems.append((path, measured))
            if with_axe:  # the narrow layout is a page of its own for axe too
                problems += [(path, v["id"], v["nodes"]) for v in self.axe_violations(page, name)]
        assert not problems, f"at {width} CSS pixels: {problems}"

    def every_page(self):
        preview = PreviewLink.objects.create(feature=self.draft, note="A guest")
        return [(name, path) for name, path, _status, _text in PUBLIC_PAGES] + [
            ("preview-link", preview.get_absolute_url())
        ]

    def test_every_page_reflows_at_320_css_pixels(self):
        self.reflow(320, 640, 1, self.every_page(), with_axe=True)

    def test_every_page_is_readable_at_200_percent_zoom(self):
        # A 1280-pixel-wide window at 200 % zoom lays pages out 640 CSS pixels wide.
        self.reflow(640, 400, 2, self.every_page())


class AdminAccessibilityTests(BrowserTestCase):
    def setUp(self):
        super().setUp()
        section = make_section("Features")
        author = make_author("Pippa Gough", job_title="Head of News")
        self.writer = make_user("wendy", group="Writers")
        self.editor = make_user("eve", group="Editors", first_name="Eve", last_name="Editor")
        self.feature = make_feature(
            "Leading on leadership", section=section, authors=[author], status=Status.DRAFT,
            tags=["Leadership"], created_by=self.writer, review_by=date(2020, 1, 1),
        )  # fmt: skip
        for comment, standfirst in [
            ("First draft", "What leadership looks like."),
            ("Sharper standfirst", "What leadership for improvement looks like, in practice."),
        ]:
            self.feature.standfirst = standfirst
            with reversion.create_revision():
                self.feature.save()
                reversion.set_user(self.writer)
                reversion.set_comment(comment)
        workflow.submit(self.feature, by=self.writer)
        PreviewLink.objects.create(feature=self.feature, note="Pippa, to check her quotes")
        # One sent back with a comment for the writer, one scheduled for tomorrow.
        self.sent_back = make_feature(
            "Board papers", section=section, authors=[author], status=Status.DRAFT,
            created_by=self.writer,
        )  # fmt: skip
        workflow.submit(self.sent_back, by=self.writer)
        workflow.send_back(self.sent_back, by=self.editor, comment="Say which board, please.")
        make_feature(
            "Coming tomorrow", section=section, authors=[author],
            publish_at=timezone.now() + timedelta(days=1),
        )  # fmt: skip
        # Written and submitted by an editor: only "Force publish" lets them publish it.
        self.own = make_feature(
            "Ward rounds", section=section, authors=[author], status=Status.DRAFT,
            created_by=self.editor,
        )  # fmt: skip
        workflow.submit(self.own, by=self.editor)
        self.withdrawn = make_feature(
            "Old rota", section=section, status=Status.WITHDRAWN, publish_at=None,
            withdrawal_notice="Out of date.",
        )  # fmt: skip
        # Live, published by an editor alone: it waits for a second editor's approval.
        self.live = make_feature("Open day", section=section, authors=[author], needs_approval=True)

    def test_every_workflow_page_and_the_lists_have_no_axe_violations(self):
        live = f"/admin/features/feature/{self.live.pk}/workflow"
        draft = f"/admin/features/feature/{self.sent_back.pk}/workflow"
        own = f"/admin/features/feature/{self.own.pk}/workflow"
        withdrawn = f"/admin/features/feature/{self.withdrawn.pk}/workflow"
        self.check_pages_with_axe(
            self.new_page(self.editor),
            [
                ("changelist", "/admin/features/feature/", 200, "Select feature to change"),
                ("changelist-filtered", "/admin/features/feature/?state=live", 200, "Open day"),
                ("confirm-force-publish", f"{own}/force_publish/", 200, "cannot wait"),
                ("confirm-approve", f"{live}/approve/", 200, "Open day"),
                ("confirm-unpublish", f"{live}/unpublish/", 200, "Reason (for the record)"),
                ("confirm-withdraw", f"{live}/withdraw/", 200, "Public explanation"),
                ("confirm-restore", f"{withdrawn}/restore/", 200, "Old rota"),
            ],
        )
        self.check_pages_with_axe(
            self.new_page(self.writer),
            [
                ("writer-add-form", "/admin/features/feature/add/", 200, "Add feature"),
                ("writer-changelist", "/admin/features/feature/", 200, "Board papers"),
                ("confirm-submit", f"{draft}/submit/", 200, "Submit for review"),
            ],
        )
        self.check_pages_with_axe(self.new_page(), [("login", "/admin/login/", 200, "Password")])

    def test_admin_customisations_have_no_axe_violations(self):
        base = f"/admin/features/feature/{self.feature.pk}"
        versions = Version.objects.get_for_object(self.feature).values_list("pk", flat=True)
        newer, older = list(versions)[:2]
        self.check_pages_with_axe(
            self.new_page(self.editor),
            [
                ("index", "/admin/", 200, "Scheduled to go live in the next seven days"),
                ("change-form", f"{base}/change/", 200, "What has happened"),
                ("confirm-publish", f"{base}/workflow/publish/", 200, "Publish at"),
                ("confirm-send-back", f"{base}/workflow/send_back/", 200, "What needs to change"),
                ("history", f"{base}/history/", 200, "Compare the chosen versions"),
                ("compare", f"{base}/history/compare/?a={older}&b={newer}", 200, "struck through"),
            ],
        )
        writer = self.new_page(self.writer)
        self.check_pages_with_axe(
            writer,
            [
                ("writer-index", "/admin/", 200, "Your features in review"),
                ("writer-read-only", f"{base}/change/", 200, "nothing you can do"),
                (
                    "writer-sent-back",
                    f"/admin/features/feature/{self.sent_back.pk}/change/",
                    200,
                    "Say which board, please.",
                ),
            ],
        )

        # The conflict page: someone else saves while this form is open.
        page = self.new_page(self.editor)
        page.goto(self.url(f"{base}/change/"))
        Feature.objects.filter(pk=self.feature.pk).update(version=F("version") + 1)
        page.get_by_label("Standfirst:").fill("My own take on the standfirst.")
        page.get_by_role("button", name="Save and continue editing").click()
        expect(page.get_by_label("Standfirst, your version")).to_have_value(
            "My own take on the standfirst."
        )
        self.assert_no_violations(page, "conflict")

        # The lock-out page, after too many wrong passwords.
        page = self.new_page()
        page.goto(self.url("/admin/login/"))
        for _ in range(settings.AXES_FAILURE_LIMIT):
            page.get_by_label("Username").fill("eve")
            page.get_by_label("Password").fill("not-the-password")
            page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Sign-in paused for this account")
        self.assert_no_violations(page, "locked-out")
