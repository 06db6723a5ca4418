"""Downloads: checked by content, self-describing, versioned at permanent addresses."""

import io
import re
import threading
import zipfile
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test import Client, TestCase, TransactionTestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import escape

from features import caching
from features.files import describe_size
from features.models import Download, DownloadVersion, Status
from tests.factories import (
    change_form_data,
    make_download,
    make_feature,
    make_user,
    pdf_bytes,
)

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT = "application/vnd.oasis.opendocument.text"


def zip_bytes(members, first=None):
    """A ZIP archive; `first` is an uncompressed leading member, as OpenDocument wants."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if first:
            archive.writestr(zipfile.ZipInfo(first[0]), first[1], zipfile.ZIP_STORED)
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def docx_bytes():
    return zip_bytes({
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats'
        '.org/package/2006/content-types"/>',
        "word/document.xml": '<?xml version="1.0"?><w:document xmlns:w="http://schemas.'
        'openxmlformats.org/wordprocessingml/2006/main"><w:body/></w:document>',
    })  # fmt: skip


def xlsx_bytes():
    return zip_bytes({
        "[Content_Types].xml": '<?xml version="1.0"?><Types/>',
        "xl/workbook.xml": '<?xml version="1.0"?><workbook/>',
    })  # fmt: skip


def odt_bytes():
    return zip_bytes(
        {"content.xml": '<?xml version="1.0"?><office:document-content/>',
         "META-INF/manifest.xml": '<?xml version="1.0"?><manifest:manifest/>'},
        first=("mimetype", ODT),
    )  # fmt: skip


CSV = b"name,score\nAnn,3\nBen,4\n"
TEXT = "Plain words about the crossword, with an é.\n".encode()
HTML = b"<!DOCTYPE html>\n<html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(range(256)) * 8


def media_files():
    """Every stored file: images under MEDIA_ROOT, download files in the private folder."""
    found = set()
    for root in [Path(settings.MEDIA_ROOT), Path(settings.PRIVATE_MEDIA_ROOT)]:
        found |= {f"{root.name}/{p.relative_to(root).as_posix()}" for p in root.rglob("*")
                  if p.is_file()}  # fmt: skip
    return found


def content(response):
    """
    The bytes of a served file. Reading it to the end closes it: the test client does that
    without closing the test's database connection, which response.close() would do.
    """
    return b"".join(response.streaming_content)


def stored_bytes(name):
    with storages["downloads"].open(name, "rb") as handle:
        return handle.read()


def day(moment):
    return dateformat.format(timezone.localtime(moment), "j F Y")


class DownloadLinks(HTMLParser):
    """The text and address of each download link on a page, whitespace normalised."""

    def __init__(self, html):
        super().__init__()
        self.links, self._current = [], None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "download-link" in (attrs.get("class") or "").split():
            self._current = [attrs["href"], ""]

    def handle_data(self, data):
        if self._current:
            self._current[1] += data

    def handle_endtag(self, tag):
        if tag == "a" and self._current:
            href, text = self._current
            self.links.append((href, " ".join(text.split())))
            self._current = None


def download_links(response):
    return DownloadLinks(response.content.decode()).links


class AdminUploadCase(TestCase):
    """Downloads added and changed through the admin, as an editor does it."""

    @classmethod
    def setUpTestData(cls):
        cls.editor = make_user(group="Editors")

    def setUp(self):
        self.client.force_login(self.editor)

    def post_new(self, name, data, **changes):
        url = reverse("admin:features_download_add")
        form = change_form_data(self.client, url)
        yesterday = timezone.localtime() - timedelta(days=1)
        form.update(
            title="The crossword", slug="the-crossword", category="crossword",
            status=Status.PUBLISHED, publish_at_0=f"{yesterday:%Y-%m-%d}", publish_at_1="09:00:00",
            file=SimpleUploadedFile(name, data),
        )  # fmt: skip
        form.update(changes)
        return self.client.post(url, form)

    def post_replacement(self, download, name, data, **changes):
        url = reverse("admin:features_download_change", args=[download.pk])
        form = change_form_data(self.client, url)
        form.update(file=SimpleUploadedFile(name, data), **changes)
        return self.client.post(url, form)

    def assert_refused(self, response, message, typed):
        assert response.status_code == 200
        form = response.context["adminform"].form
        assert any(message in error for error in form.errors.get("file", [])), form.errors
        self.assertContains(response, escape(message))
        for name, value in typed.items():
            assert form[name].value() == value
            self.assertContains(response, escape(value))


class AcceptedUploadTests(AdminUploadCase):
    def test_allowed_types_are_accepted_as_what_their_content_is(self):
        cases = [
            ("a PDF", "guide.pdf", pdf_bytes(2), PDF, ".pdf", 2, "PDF, 2 pages"),
            ("a PDF renamed .docx", "guide.docx", pdf_bytes(3), PDF, ".pdf", 3, "PDF, 3 pages"),
            ("a Word file", "letter.docx", docx_bytes(), DOCX, ".docx", None, "Word"),
            ("a Word file named .pdf", "letter.pdf", docx_bytes(), DOCX, ".docx", None, "Word"),
            ("an Excel file", "sums.xlsx", xlsx_bytes(), XLSX, ".xlsx", None, "Excel"),
            ("an OpenDocument text", "notes.odt", odt_bytes(), ODT, ".odt", None,
             "OpenDocument text"),
            ("a CSV file", "scores.csv", CSV, "text/csv", ".csv", None, "CSV"),
            ("a plain text file", "readme.txt", TEXT, "text/plain", ".txt", None, "Plain text"),
        ]  # fmt: skip
        for label, name, data, mime_type, extension, pages, summary in cases:
            with self.subTest(label):
                Download.objects.filter(slug="the-crossword").delete()
                response = self.post_new(name, data)
                assert response.status_code == 302, response.context["adminform"].form.errors
                download = Download.objects.get(slug="the-crossword")
                assert download.mime_type == mime_type
                assert Path(download.file.name).suffix == extension
                assert download.page_count == pages
                assert download.size == len(data)
                assert download.summary == f"{summary}, {describe_size(len(data))}"
                assert stored_bytes(download.file.name) == data

    def test_file_names_are_sanitised(self):
        cases = [
            ("../../My Report (final).PDF", "my-report-final"),
            ("Résumé d’été <2024>.pdf", "resume-dete-2024"),
            ("....pdf", "download"),
        ]
        for name, stem in cases:
            with self.subTest(name):
                Download.objects.filter(slug="the-crossword").delete()
                assert self.post_new(name, pdf_bytes()).status_code == 302
                stored = Download.objects.get(slug="the-crossword").file.name
                assert re.fullmatch(rf"downloads/\d{{4}}/\d{{2}}/{stem}(_\w{{7}})?\.pdf", stored)
                assert (Path(settings.PRIVATE_MEDIA_ROOT) / stored).is_file()


class RefusedUploadTests(AdminUploadCase):
    NOT_OFFERED = "This file's content is not one of the types we offer for download"

    def test_files_we_do_not_offer_are_refused(self):
        cases = [
            ("an HTML file renamed .pdf", "report.pdf", HTML),
            ("an SVG", "logo.svg", SVG),
            ("an SVG named .txt", "logo.txt", b'<?xml version="1.0"?>\n' + SVG),
            ("a program", "setup.exe", EXE),
            ("a program named .pdf", "invoice.pdf", EXE),
            ("an empty-looking binary", "data.csv", b"\x00" * 64),
        ]
        for label, name, data in cases:
            with self.subTest(label):
                before = media_files()
                response = self.post_new(name, data, title="Typed title", description="Typed")
                self.assert_refused(
                    response, self.NOT_OFFERED, {"title": "Typed title", "description": "Typed"}
                )
                self.assertContains(response, "Upload one of: CSV, Excel, OpenDocument")
                assert not Download.objects.exists()
                assert media_files() == before

    def test_a_file_over_the_size_cap_is_refused(self):
        data = pdf_bytes(2)
        cap = len(data) - 1
        limits = {**settings.NEWSROOM, "DOWNLOAD_MAX_BYTES": cap}
        message = (
            f"This file is {describe_size(len(data))}; the largest allowed is {describe_size(cap)}."
        )
        before = media_files()
        with override_settings(NEWSROOM=limits):
            response = self.post_new("big.pdf", data, title="Typed title")
        self.assert_refused(response, message, {"title": "Typed title"})
        assert not Download.objects.exists()
        assert media_files() == before
        # Exactly at the cap is fine.
        with override_settings(NEWSROOM={**limits, "DOWNLOAD_MAX_BYTES": len(data)}):
            assert self.post_new("big.pdf", data).status_code == 302

    def test_a_refused_replacement_changes_nothing(self):
        download = make_download("Kept as it is", content=pdf_bytes(2))
        row = Download.objects.values().get(pk=download.pk)
        before = media_files()
        response = self.post_replacement(download, "new.pdf", HTML, title="Typed title")
        self.assert_refused(response, self.NOT_OFFERED, {"title": "Typed title"})
        assert Download.objects.values().get(pk=download.pk) == row
        assert not DownloadVersion.objects.exists()
        assert media_files() == before

    def test_html_and_svg_are_refused_however_they_begin(self):
        cases = [
            ("HTML with a byte-order mark", "\ufeff".encode() + HTML),
            ("HTML saved by a browser", b"<!-- saved from url=(0014)about:internet -->\n" + HTML),
            ("SVG after a comment", b"<!-- Generator: Adobe Illustrator -->\n" + SVG),
        ]
        accepted = []
        for label, data in cases:
            Download.objects.filter(slug="the-crossword").delete()
            if self.post_new("report.pdf", data).status_code != 200:
                accepted.append(label)
        assert accepted == []


class LinkTextTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.data = pdf_bytes(2)
        cls.download = make_download("Crossword 12", content=cls.data)
        cls.feature = make_feature("Puzzles")
        cls.feature.downloads.add(cls.download)
        cls.summary = f"(PDF, 2 pages, {describe_size(len(cls.data))})"

    def pages(self):
        return {
            "downloads page": self.client.get(reverse("features:downloads")),
            "feature page": self.client.get(self.feature.get_absolute_url()),
        }

    def test_links_say_type_pages_and_size(self):
        assert re.fullmatch(r"\(PDF, 2 pages, \d+ KB\)", self.summary)
        for page, response in self.pages().items():
            with self.subTest(page):
                [(href, text)] = download_links(response)
                assert href == "/downloads/crossword-12/"
                assert text.endswith(self.summary)

    def test_links_name_what_they_download(self):
        texts = {page: download_links(response)[0][1] for page, response in self.pages().items()}
        expected = f"Download Crossword 12 {self.summary}"
        assert texts == {"downloads page": expected, "feature page": expected}

    def test_accessible_format_flag_removes_the_offer_of_another_format(self):
        offer = "Ask for an accessible format"
        for accessible in (False, True):
            self.download.accessible_format = accessible
            self.download.save()
            for page, response in self.pages().items():
                with self.subTest(page, accessible=accessible):
                    if accessible:
                        self.assertNotContains(response, offer)
                        self.assertNotContains(response, "?subject=Accessible")
                    else:
                        self.assertContains(response, offer, count=1)
                        self.assertContains(
                            response,
                            f"mailto:{settings.NEWSROOM['CONTACT_EMAIL']}?subject=Accessible%20"
                            "format%3A%20Crossword%2012",
                        )


class VersionTests(AdminUploadCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.first = pdf_bytes(2)
        cls.download = make_download("Annual report", content=cls.first, filename="report.pdf")

    def test_replacing_the_file_keeps_the_address_and_keeps_the_old_version(self):
        address = self.download.get_absolute_url()
        assert address == "/downloads/annual-report/"
        old_name = self.download.file.name
        second = CSV
        response = self.post_replacement(self.download, "figures.csv", second)
        assert response.status_code == 302, response.context["adminform"].form.errors

        assert content(self.client.get(address)) == second
        [version] = DownloadVersion.objects.filter(download=self.download)
        assert version.file.name == old_name
        assert (version.mime_type, version.page_count, version.size) == (PDF, 2, len(self.first))
        assert content(self.client.get(version.get_absolute_url())) == self.first

        page = self.client.get(reverse("features:downloads"))
        download = Download.objects.get(pk=self.download.pk)
        self.assertContains(page, f'Updated on <time datetime="{download.file_updated_at:%Y-%m-%d}')
        self.assertContains(
            page,
            f'<a href="{version.get_absolute_url()}">Version replaced on '
            f"{day(version.replaced_at)}</a> (PDF, 2 pages, {describe_size(len(self.first))})",
            html=True,
        )
        [(href, text)] = download_links(page)
        assert href == address
        assert text.endswith(f"(CSV, {describe_size(len(CSV))})")

    def test_every_earlier_version_keeps_its_own_address(self):
        files = [self.first, TEXT, docx_bytes()]
        for name, data in [("notes.txt", TEXT), ("letter.docx", files[2])]:
            assert self.post_replacement(self.download, name, data).status_code == 302
        versions = list(DownloadVersion.objects.filter(download=self.download).order_by("pk"))
        assert len(versions) == 2
        for version, data in zip(versions, files, strict=False):
            with self.subTest(version.file.name):
                assert re.fullmatch(rf"/downloads/annual-report/versions/{version.pk}/",
                                    version.get_absolute_url())  # fmt: skip
                assert content(self.client.get(version.get_absolute_url())) == data
        assert content(self.client.get(self.download.get_absolute_url())) == files[2]

    def test_saving_without_a_new_file_makes_no_version(self):
        url = reverse("admin:features_download_change", args=[self.download.pk])
        form = change_form_data(self.client, url)
        form["title"] = "Annual report, corrected title"
        assert self.client.post(url, form).status_code == 302
        assert not DownloadVersion.objects.exists()


class HeaderTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.download = make_download("Scores", content=pdf_bytes(), filename="scores.pdf")
        cls.download.file.save("scores.csv", io.BytesIO(CSV), save=False)
        cls.download.save()
        cls.version = cls.download.versions.get()

    def test_served_files_are_attachments_of_their_real_type_never_sniffed(self):
        slug = self.download.slug
        cases = [
            ("current", self.download.get_absolute_url(), "text/csv", f"{slug}.csv"),
            ("earlier version", self.version.get_absolute_url(), PDF,
             f"{slug}-earlier-version.pdf"),
        ]  # fmt: skip
        for label, url, mime_type, filename in cases:
            with self.subTest(label):
                response = self.client.get(url)
                content(response)
                assert response.status_code == 200
                assert response["Content-Type"] == mime_type
                # Named for the download, not the stored file (no storage suffix).
                assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
                assert response["X-Content-Type-Options"] == "nosniff"
                assert "sandbox" in response["Content-Security-Policy"]


class HiddenDownloadTests(TestCase):
    """Drafts, downloads in review, scheduled and withdrawn ones: 404, versions too."""

    @classmethod
    def setUpTestData(cls):
        future = timezone.now() + timedelta(days=2)
        cls.hidden = {
            "draft": make_download("Draft one", status=Status.DRAFT),
            "in review": make_download("Reviewed one", status=Status.IN_REVIEW),
            "scheduled": make_download("Scheduled one", publish_at=future),
            "withdrawn": make_download("Withdrawn one", status=Status.WITHDRAWN),
        }
        cls.feature = make_feature("Links to them all")
        for download in cls.hidden.values():
            download.file.save("newer.txt", io.BytesIO(TEXT), save=False)
            download.save()
            cls.feature.downloads.add(download)

    def test_hidden_downloads_and_their_versions_are_404_until_published(self):
        for state, download in self.hidden.items():
            version = download.versions.get()
            urls = [download.get_absolute_url(), version.get_absolute_url()]
            with self.subTest(state):
                for url in urls:
                    assert self.client.get(url).status_code == 404
                    assert self.client.head(url).status_code == 404
                for page in (reverse("features:downloads"), self.feature.get_absolute_url()):
                    self.assertNotContains(self.client.get(page), download.title)
                assert Download.objects.get(pk=download.pk).download_count == 0
            download.status = Status.PUBLISHED
            download.publish_at = timezone.now() - timedelta(minutes=1)
            download.save()
            with self.subTest(state, published=True):
                for url in urls:
                    response = self.client.get(url)
                    assert response.status_code == 200
                    content(response)
                self.assertContains(self.client.get(reverse("features:downloads")), download.title)


class UsedInTests(AdminUploadCase):
    def test_download_admin_page_lists_the_features_that_link_to_it(self):
        download = make_download("Shared report")
        linking = [make_feature("Beta story"), make_feature("Alpha story", status=Status.DRAFT)]
        for feature in linking:
            feature.downloads.add(download)
        make_feature("Unrelated story")
        response = self.client.get(reverse("admin:features_download_change", args=[download.pk]))
        self.assertContains(response, "Features that link to it")
        for feature in linking:
            self.assertContains(
                response,
                f'<a href="{reverse("admin:features_feature_change", args=[feature.pk])}">'
                f"{feature.title}</a>",
                html=True,
            )
        self.assertContains(response, "Alpha story</a> (draft), <a")
        self.assertNotContains(response, "Unrelated story")

    def test_a_download_no_feature_links_to_says_so(self):
        download = make_download("Lonely report")
        response = self.client.get(reverse("admin:features_download_change", args=[download.pk]))
        self.assertContains(response, "None yet.")


@override_settings(NEWSROOM={**settings.NEWSROOM, "PAGE_CACHE": False})
class DownloadListQueryTests(TestCase):
    """The view's own queries: the shared page cache is off so every request reaches it."""

    @staticmethod
    def make_downloads(count):
        for _ in range(count):
            download = make_download()
            for number in range(2):
                DownloadVersion.objects.create(
                    download=download, file=download.file.name, mime_type=PDF, size=1000 + number,
                    page_count=2, uploaded_at=timezone.now(),
                )  # fmt: skip

    def queries_for_list(self):
        caching.forget_go_live()
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(reverse("features:downloads"))
        assert response.status_code == 200
        return len(queries), response

    def test_downloads_page_makes_as_many_queries_for_30_downloads_as_for_3(self):
        self.make_downloads(3)
        few, response = self.queries_for_list()
        assert response.content.decode().count("Version replaced on") == 6
        self.make_downloads(27)
        caching.forget_go_live()
        with self.assertNumQueries(few):
            response = self.client.get(reverse("features:downloads"))
        # A page of 20, each with its two earlier versions.
        assert response.content.decode().count("Version replaced on") == 40


@pytest.mark.postgres
class ConcurrentDownloadTests(TransactionTestCase):
    """Every request is counted, even fifty at once (PostgreSQL: SQLite locks the file)."""

    def test_fifty_parallel_downloads_are_all_counted(self):
        download = make_download("Popular crossword")
        url = download.get_absolute_url()
        statuses, start = [], threading.Barrier(50)

        def fetch():
            try:
                start.wait()
                response = Client().get(url)
                content(response)
                statuses.append(response.status_code)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=fetch) for _ in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert statuses == [200] * 50
        assert Download.objects.get(pk=download.pk).download_count == 50


class PrivateFilesTests(TestCase):
    def test_download_files_are_not_reachable_under_media(self):
        from tests.factories import make_download

        for status in [Status.DRAFT, Status.PUBLISHED]:
            download = make_download(f"Private {status}", status=status)
            with self.subTest(status=status):
                assert self.client.get(f"/media/{download.file.name}").status_code == 404
