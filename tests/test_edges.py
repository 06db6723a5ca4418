"""Edges of uploads, feeds and the page cache that a careful reader of the code found."""

import html
import io
import xml.etree.ElementTree as ET
from datetime import timedelta

import feedparser
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase, override_settings
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from taggit.models import Tag

from features import workflow
from features.images import validate_image
from features.models import Download, Feature, Status
from tests.factories import (
    change_form_data,
    make_author,
    make_download,
    make_feature,
    make_section,
    make_user,
)  # fmt: skip


def jpeg_with_gps(size=(800, 600)):
    exif = Image.Exif()
    exif[0x010F] = "SpyPhone"
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, "JPEG", exif=exif, quality=95)
    return buffer.getvalue()


class ImageEdgeTests(TestCase):
    def test_a_truncated_jpeg_is_refused_not_stored_as_it_came(self):
        data = jpeg_with_gps()[:-2000]
        with pytest.raises(Exception, match="not an image we can use"):
            validate_image(SimpleUploadedFile("IMG_home.jpg", data, "image/jpeg"))

    def test_an_animation_is_counted_frame_by_frame(self):
        frames = [Image.new("P", (1000, 1000), n) for n in range(50)]
        buffer = io.BytesIO()
        frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
        upload = SimpleUploadedFile("anim.gif", buffer.getvalue(), "image/gif")
        with pytest.raises(Exception, match="in 50 frames"):
            validate_image(upload)

    def test_the_colour_profile_is_kept_and_location_dropped(self):
        from PIL import ImageCms

        profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        buffer = io.BytesIO()
        exif = Image.Exif()
        exif[0x010F] = "SpyPhone"
        Image.new("RGB", (60, 40), "red").save(buffer, "JPEG", icc_profile=profile, exif=exif)
        feature = make_feature("Colour")
        feature.hero_image = SimpleUploadedFile("c.jpg", buffer.getvalue(), "image/jpeg")
        feature.hero_image_alt = "Red"
        feature.save()
        with feature.hero_image.open("rb") as handle, Image.open(handle) as stored:
            assert stored.info.get("icc_profile") == profile
            assert 0x010F not in stored.getexif()


class FeedEdgeTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = make_user(group="Editors")
        cls.alpha, cls.beta = make_section("Alpha"), make_section("Beta")
        cls.author = make_author("Ann Lee")

    def test_rss_descriptions_are_html_escaped_text(self):
        make_feature(
            "Bold claims", section=self.alpha, authors=[self.author],
            standfirst="Why <b>bold</b> claims & x<y matter",
        )  # fmt: skip
        rss = self.client.get("/feeds/latest.rss").content
        item = ET.fromstring(rss).find("channel/item")
        assert (
            item.findtext("description") == "Why &lt;b&gt;bold&lt;/b&gt; claims &amp; x&lt;y matter"
        )
        parsed = feedparser.parse(rss)
        assert not parsed.bozo
        # Readers get HTML that displays as the standfirst's own text.
        assert html.unescape(parsed.entries[0].summary) == "Why <b>bold</b> claims & x<y matter"
        atom = feedparser.parse(self.client.get("/feeds/latest.atom").content)
        assert atom.entries[0].summary == "Why <b>bold</b> claims & x<y matter"

    def test_moving_a_feature_out_of_a_section_moves_its_last_modified(self):
        an_hour_ago = timezone.now() - timedelta(hours=1)
        feature = make_feature("Moving", section=self.alpha, authors=[self.author],
                               publish_at=an_hour_ago)  # fmt: skip
        make_feature("Staying", section=self.alpha, authors=[self.author], publish_at=an_hour_ago)
        Feature.objects.update(updated_at=an_hour_ago)
        first = self.client.get("/feeds/sections/alpha.rss")
        feature = Feature.objects.get(pk=feature.pk)
        feature.section = self.beta
        feature.save()
        response = self.client.get(
            "/feeds/sections/alpha.rss",
            headers={"If-Modified-Since": first["Last-Modified"]},
        )
        assert response.status_code == 200
        assert b"Moving" not in response.content

    def test_a_scope_change_is_recorded_for_tags_and_authors(self):
        from feeds.models import ScopeChange

        feature = make_feature("Tagged", section=self.alpha, authors=[self.author], tags=["x"])
        feature.tags.set([])
        assert ScopeChange.objects.filter(key__startswith="tag:").exists()
        feature.bylines.all().delete()
        assert ScopeChange.objects.filter(key=f"author:{self.author.pk}").exists()

    def test_a_scope_change_moves_its_own_feeds_last_modified_only(self):
        from email.utils import parsedate_to_datetime

        from feeds.models import ScopeChange

        bo = make_author("Bo Ma")
        a_day_ago = timezone.now() - timedelta(days=1)
        make_feature("Shared", section=self.alpha, authors=[self.author, bo], tags=["x", "y"],
                     publish_at=a_day_ago)  # fmt: skip
        make_feature("Beta's", section=self.beta, authors=[self.author], publish_at=a_day_ago)
        Feature.objects.update(updated_at=a_day_ago)
        tag_x, tag_y = (Tag.objects.get(slug=slug) for slug in ["x", "y"])
        feeds = {
            f"section:{self.alpha.pk}": "/feeds/sections/alpha.rss",
            f"section:{self.beta.pk}": "/feeds/sections/beta.rss",
            f"tag:{tag_x.pk}": "/feeds/tags/x.rss",
            f"tag:{tag_y.pk}": "/feeds/tags/y.rss",
            f"author:{self.author.pk}": "/feeds/authors/ann-lee.rss",
            f"author:{bo.pk}": "/feeds/authors/bo-ma.rss",
        }

        def last_modified():
            return {key: parsedate_to_datetime(self.client.get(url)["Last-Modified"])
                    for key, url in feeds.items()}  # fmt: skip

        before = last_modified()
        assert set(before.values()) == {a_day_ago.replace(microsecond=0)}
        for key in feeds:
            with self.subTest(key=key):
                ScopeChange.mark(key)
                now = last_modified()
                assert now[key] > before[key]
                assert {k: v for k, v in now.items() if k != key} == {
                    k: v for k, v in before.items() if k != key
                }
                ScopeChange.objects.filter(key=key).delete()

    def test_download_items_link_to_the_downloads_page_not_the_file(self):
        download = make_download("Map")
        item = ET.fromstring(self.client.get("/feeds/downloads.rss").content).find("channel/item")
        assert item.findtext("link").endswith(f"/downloads/#{download.slug}")
        assert self.client.get(f"/downloads/#{download.slug}").status_code == 200
        download.refresh_from_db()
        assert download.download_count == 0

    def test_a_tag_without_letters_breaks_no_page(self):
        feature = make_feature("Odd tag", section=self.alpha, authors=[self.author])
        feature.tags.add("!!!")
        for url in [feature.get_absolute_url(), "/feeds/", "/feeds/latest.rss"]:
            with self.subTest(url=url):
                assert self.client.get(url).status_code == 200


@pytest.mark.page_cache
class CacheHitEdgeTests(TestCase):
    def test_a_cached_page_tells_caches_only_the_time_left_before_a_go_live(self):
        make_feature("Soon", publish_at=timezone.now() + timedelta(seconds=30))
        self.client.get("/features/")
        later = timezone.now() + timedelta(seconds=20)
        from unittest import mock

        with mock.patch("django.utils.timezone.now", return_value=later):
            hit = self.client.get("/features/")
        assert hit["X-Cache"] == "hit"
        max_age = int(hit["Cache-Control"].split("max-age=")[1].split(",")[0])
        assert max_age <= 10


class DownloadEdgeTests(TestCase):
    def test_a_windows_1252_csv_is_accepted_as_csv(self):
        from features.files import validate_download

        data = "Item,Price\nCafé,£3\n".encode("cp1252")
        assert validate_download(SimpleUploadedFile("prices.csv", data)) == "text/csv"

    def test_the_slug_of_a_live_download_is_fixed(self):
        editor = make_user(group="Editors")
        download = make_download("Annual report")
        self.client.force_login(editor)
        url = reverse("admin:features_download_change", args=[download.pk])
        response = self.client.get(url)
        assert "slug" not in response.context["adminform"].form.fields
        draft = make_download("Draft report", status=Status.DRAFT)
        response = self.client.get(reverse("admin:features_download_change", args=[draft.pk]))
        assert "slug" in response.context["adminform"].form.fields

    def test_a_published_download_without_a_date_is_a_clear_form_error(self):
        editor = make_user(group="Editors")
        download = make_download("Undated", status=Status.DRAFT)
        self.client.force_login(editor)
        url = reverse("admin:features_download_change", args=[download.pk])
        data = change_form_data(self.client, url)
        data["status"] = Status.PUBLISHED
        response = self.client.post(url, data)
        self.assertContains(response, "A published download needs its “publish at” time.")
        assert Download.objects.get(pk=download.pk).status == Status.DRAFT


@override_settings()
class WorkflowStillWorks(TestCase):
    def test_publishing_after_these_changes_still_shows_everywhere(self):
        editor, other = make_user(group="Editors"), make_user(group="Editors")
        feature = make_feature("Edge", status=Status.IN_REVIEW, authors=[make_author()],
                               submitted_by=other)  # fmt: skip
        workflow.publish(feature, by=editor)
        assert Feature.objects.live().filter(pk=feature.pk).exists()


class OldOfficeFileTests(TestCase):
    def test_compound_files_are_judged_by_their_streams_not_their_names(self):
        from features.files import sniff_type

        header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500
        word = header + "WordDocument".encode("utf-16-le") + b"\x00" * 100
        excel = header + "Workbook".encode("utf-16-le") + b"\x00" * 100
        other = header + "Msi".encode("utf-16-le") + b"\x00" * 100
        cases = [(word, "report.xls", "application/msword"),
                 (excel, "report.doc", "application/vnd.ms-excel"),
                 (other, "setup.doc", "application/x-ole-storage")]  # fmt: skip
        for data, name, expected in cases:
            with self.subTest(name=name):
                assert sniff_type(io.BytesIO(data), name) == expected
