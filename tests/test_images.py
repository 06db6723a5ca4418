"""Hero images and author photos: checked on upload, stripped, cut into renditions once."""

import io
import random
import struct
import zlib
from html.parser import HTMLParser
from pathlib import Path
from unittest import mock

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase, override_settings
from django.urls import reverse
from django.utils.html import escape
from PIL import Image

from features.models import Author, Feature, Status
from tests.factories import change_form_data, make_author, make_feature, make_user

GPS_INFO, MAKE, ORIENTATION = 0x8825, 0x010F, 0x0112


def image_bytes(image_format, size=(40, 30), mode="RGB", colour="navy", **options):
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, image_format, **options)
    return buffer.getvalue()


def camera_exif(orientation=None):
    """EXIF as a phone writes it: the camera's make and where the photo was taken."""
    exif = Image.Exif()
    exif[MAKE] = "SpyPhone"
    exif[GPS_INFO] = {1: "N", 2: (51.0, 30.0, 26.0), 3: "W", 4: (0.0, 7.0, 39.0)}
    if orientation:
        exif[ORIENTATION] = orientation
    return exif


def png_claiming(width, height):
    """A valid 1-bit PNG of the given size: a few KB on disk, huge once decoded."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\x00" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row * 1000) for _ in range(height // 1000))
    idat += compressor.compress(row * (height % 1000)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def noise_png(side):
    """A PNG that does not compress: side × side × 3 bytes and a little more."""
    pixels = random.Random(side).randbytes(side * side * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), pixels).save(buffer, "PNG")
    return buffer.getvalue()


def media_files():
    root = Path(settings.MEDIA_ROOT)
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


def stored_image(name):
    with default_storage.open(name, "rb") as handle:
        data = handle.read()
    image = Image.open(io.BytesIO(data))
    image.load()
    return image, data


def rendition_names(renditions):
    return [name for key in ("webp", "fallback") for name, _width in renditions.get(key, [])]


class PictureParser(HTMLParser):
    """The <source> and <img> tags inside the page's <picture> elements."""

    def __init__(self):
        super().__init__()
        self.in_picture = False
        self.sources, self.imgs = [], []

    def handle_starttag(self, tag, attrs):
        if tag == "picture":
            self.in_picture = True
        elif self.in_picture and tag == "source":
            self.sources.append(dict(attrs))
        elif self.in_picture and tag == "img":
            self.imgs.append(dict(attrs))

    def handle_endtag(self, tag):
        if tag == "picture":
            self.in_picture = False


def parse_picture(response):
    parser = PictureParser()
    parser.feed(response.content.decode())
    return parser


class ImageUploadCase(TestCase):
    """Uploads through the admin, as an editor does them."""

    @classmethod
    def setUpTestData(cls):
        cls.editor = make_user(group="Editors")
        cls.feature = make_feature("With a picture", status=Status.DRAFT)
        cls.author = make_author("Pat Photo")

    def setUp(self):
        self.client.force_login(self.editor)

    def post_hero_image(self, data, name, alt="A lighthouse at dusk", feature=None, **changes):
        feature = feature or self.feature
        url = reverse("admin:features_feature_change", args=[feature.pk])
        form = change_form_data(self.client, url)
        if feature.status == Status.PUBLISHED:
            form["minor_change"] = "on"
        form.update(hero_image=SimpleUploadedFile(name, data), hero_image_alt=alt, **changes)
        return self.client.post(url, form)

    def post_author_photo(self, data, name, alt="Pat, smiling", **changes):
        url = reverse("admin:features_author_change", args=[self.author.pk])
        form = change_form_data(self.client, url)
        form.update(photo=SimpleUploadedFile(name, data), photo_alt=alt, **changes)
        return self.client.post(url, form)


class AcceptedImageTests(ImageUploadCase):
    def test_jpeg_png_webp_and_gif_are_accepted_as_hero_image_and_author_photo(self):
        for image_format, name in [("JPEG", "a.jpg"), ("PNG", "b.png"), ("WEBP", "c.webp"),
                                   ("GIF", "d.gif")]:  # fmt: skip
            data = image_bytes(image_format, size=(60, 45))
            with self.subTest(image_format, on="feature"):
                response = self.post_hero_image(data, name)
                assert response.status_code == 302, response.context["adminform"].form.errors
                feature = Feature.objects.get(pk=self.feature.pk)
                stored, _ = stored_image(feature.hero_image.name)
                assert stored.format == image_format
                # Stored with the row, not read from the file whenever a feature is loaded.
                stored_size = Feature.objects.filter(pk=feature.pk).values_list(
                    "hero_image_width", "hero_image_height"
                )
                assert stored_size.get() == (60, 45)
                assert feature.hero_image_alt == "A lighthouse at dusk"
                assert feature.hero_image_type == Image.MIME[image_format]
            with self.subTest(image_format, on="author"):
                response = self.post_author_photo(data, name)
                assert response.status_code == 302, response.context["adminform"].form.errors
                author = Author.objects.get(pk=self.author.pk)
                assert stored_image(author.photo.name)[0].format == image_format
                assert author.photo_alt == "Pat, smiling"
                stored_size = Author.objects.filter(pk=author.pk).values_list(
                    "photo_width", "photo_height"
                )
                assert stored_size.get() == (60, 45)

    def test_describing_the_hero_image_leaves_no_file_open(self):
        assert self.post_hero_image(image_bytes("JPEG"), "a.jpg").status_code == 302
        feature = Feature.objects.get(pk=self.feature.pk)
        assert feature.hero_image.closed
        feature.describe_hero_image()
        assert feature.hero_image_type == "image/jpeg"
        assert feature.hero_image.closed


class RefusedImageTests(ImageUploadCase):
    """Each refusal names the problem, saves nothing and keeps what the editor typed."""

    def assert_refused(self, response, field, message, typed):
        assert response.status_code == 200
        form = response.context["adminform"].form
        errors = form.errors.get(field, form.non_field_errors())
        assert any(message in error for error in errors), form.errors
        self.assertContains(response, escape(message))
        for name, value in typed.items():
            assert form[name].value() == value
            self.assertContains(response, escape(value))

    def cases(self):
        return [
            ("a text file named .jpg", b"Not a picture at all, just words.\n" * 20, "photo.jpg",
             "This file is not an image we can use. Upload a JPEG, PNG, WebP or GIF."),
            ("an SVG", b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
             b'<script>alert(1)</script></svg>', "logo.svg",
             "This file is not an image we can use."),
            ("an SVG named .png", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
             "logo.png", "This file is not an image we can use."),
            ("a decompression bomb", png_claiming(30_000, 30_000), "bomb.png",
             "This image claims an enormous number of pixels and was refused."),
            ("too many pixels", png_claiming(10_000, 5_000), "huge.png",
             "This image is 10000 × 5000 pixels, more than the 40 million allowed."),
            ("a TIFF", image_bytes("TIFF"), "scan.tif", "TIFF images are not accepted."),
        ]  # fmt: skip

    def test_the_bomb_is_a_small_file(self):
        assert len(png_claiming(30_000, 30_000)) < 200 * 1024

    def test_hero_images_that_are_not_usable_are_refused(self):
        for label, data, name, message in self.cases():
            with self.subTest(label):
                before, row = media_files(), Feature.objects.values().get(pk=self.feature.pk)
                response = self.post_hero_image(data, name, title="Typed title", alt="Typed alt")
                self.assert_refused(
                    response, "hero_image", message,
                    {"title": "Typed title", "hero_image_alt": "Typed alt"},
                )  # fmt: skip
                assert Feature.objects.values().get(pk=self.feature.pk) == row
                assert media_files() == before

    def test_author_photos_that_are_not_usable_are_refused(self):
        for label, data, name, message in self.cases():
            with self.subTest(label):
                before, row = media_files(), Author.objects.values().get(pk=self.author.pk)
                response = self.post_author_photo(data, name, bio="Typed bio", alt="Typed alt")
                self.assert_refused(
                    response, "photo", message, {"bio": "Typed bio", "photo_alt": "Typed alt"}
                )
                assert Author.objects.values().get(pk=self.author.pk) == row
                assert media_files() == before

    def test_an_image_over_the_byte_limit_is_refused(self):
        data = noise_png(800)  # about 1.9 MB
        limits = {**settings.NEWSROOM, "IMAGE_MAX_BYTES": 1024 * 1024}
        message = "This image is 1.8 MB; the largest allowed is 1 MB."
        with override_settings(NEWSROOM=limits):
            for on in ("feature", "author"):
                with self.subTest(on):
                    before = media_files()
                    if on == "feature":
                        response = self.post_hero_image(data, "big.png", alt="Typed alt")
                        self.assert_refused(
                            response, "hero_image", message, {"hero_image_alt": "Typed alt"}
                        )
                        assert not Feature.objects.get(pk=self.feature.pk).hero_image
                    else:
                        response = self.post_author_photo(data, "big.png", alt="Typed alt")
                        self.assert_refused(response, "photo", message, {"photo_alt": "Typed alt"})
                        assert not Author.objects.get(pk=self.author.pk).photo
                    assert media_files() == before
        # The same file is fine under the normal limit.
        assert self.post_hero_image(data, "big.png").status_code == 302

    def test_alt_text_is_required_when_an_image_is_set(self):
        data = image_bytes("JPEG")
        for on, message in [("feature", "Describe the hero image in its alt text."),
                            ("author", "Describe the photo in its alt text.")]:  # fmt: skip
            with self.subTest(on):
                before = media_files()
                if on == "feature":
                    response = self.post_hero_image(data, "a.jpg", alt="", title="Typed title")
                    self.assert_refused(response, "__all__", message, {"title": "Typed title"})
                    assert Feature.objects.get(pk=self.feature.pk).title == "With a picture"
                    assert not Feature.objects.get(pk=self.feature.pk).hero_image
                else:
                    response = self.post_author_photo(data, "a.jpg", alt="", bio="Typed bio")
                    self.assert_refused(response, "__all__", message, {"bio": "Typed bio"})
                    assert not Author.objects.get(pk=self.author.pk).photo
                assert media_files() == before


class MetadataTests(ImageUploadCase):
    def test_location_and_camera_are_stripped_from_the_image_and_every_rendition(self):
        uploads = [
            ("JPEG", image_bytes("JPEG", size=(900, 600), exif=camera_exif())),
            ("PNG", image_bytes("PNG", size=(900, 600), exif=camera_exif())),
            ("WEBP", image_bytes("WEBP", size=(900, 600), exif=camera_exif())),
        ]
        for image_format, data in uploads:
            with self.subTest(image_format):
                # The upload really carries what must go.
                assert Image.open(io.BytesIO(data)).getexif()[MAKE] == "SpyPhone"
                assert self.post_hero_image(data, "phone.jpg").status_code == 302
                feature = Feature.objects.get(pk=self.feature.pk)
                names = [feature.hero_image.name, *rendition_names(feature.hero_image_renditions)]
                assert len(names) == 7  # the image; WebP and fallback at 400, 800 and 900
                for name in names:
                    image, stored = stored_image(name)
                    assert not image.getexif(), name
                    assert "exif" not in image.info, name
                    assert b"SpyPhone" not in stored, name

    def test_gif_comments_are_stripped(self):
        data = image_bytes("GIF", comment=b"Taken at 12 Secret Lane")
        assert b"Secret Lane" in data
        assert self.post_hero_image(data, "a.gif").status_code == 302
        image, stored = stored_image(Feature.objects.get(pk=self.feature.pk).hero_image.name)
        assert image.format == "GIF"
        assert b"Secret Lane" not in stored

    def test_exif_orientation_is_applied(self):
        # Orientation 6: the camera was turned; the picture is 30 wide and 40 high.
        data = image_bytes("JPEG", size=(40, 30), exif=camera_exif(orientation=6))
        assert self.post_hero_image(data, "turned.jpg").status_code == 302
        feature = Feature.objects.get(pk=self.feature.pk)
        image, _ = stored_image(feature.hero_image.name)
        assert image.size == (30, 40)
        assert ORIENTATION not in image.getexif()
        assert (feature.hero_image_width, feature.hero_image_height) == (30, 40)
        fallback, _ = stored_image(feature.hero_image_renditions["fallback"][0][0])
        assert fallback.size == (30, 40)


class RenditionTests(ImageUploadCase):
    def stored_renditions(self, renditions):
        """(format, size) of each stored rendition, by kind."""
        return {
            kind: [stored_image(name)[0] for name, _width in renditions[kind]]
            for kind in ("webp", "fallback")
        }

    def test_a_wide_image_is_cut_to_400_800_and_1600_in_webp_and_jpeg(self):
        data = image_bytes("JPEG", size=(2000, 1000))
        assert self.post_hero_image(data, "wide.jpg").status_code == 302
        renditions = Feature.objects.get(pk=self.feature.pk).hero_image_renditions
        assert renditions["fallback_type"] == "image/jpeg"
        stored = self.stored_renditions(renditions)
        for kind, image_format in [("webp", "WEBP"), ("fallback", "JPEG")]:
            for (_name, width), image in zip(renditions[kind], stored[kind], strict=True):
                with self.subTest(kind, width=width):
                    assert image.format == image_format
                    assert image.size == (width, width // 2)
            assert {width for _name, width in renditions[kind]} == {400, 800, 1600}

    def test_a_wide_image_lists_each_width_once(self):
        feature = make_feature("Wide", status=Status.PUBLISHED)
        data = image_bytes("JPEG", size=(2000, 1000))
        assert self.post_hero_image(data, "wide.jpg", feature=feature).status_code == 302
        renditions = Feature.objects.get(pk=feature.pk).hero_image_renditions
        page = parse_picture(self.client.get(feature.get_absolute_url()))
        assert [width for _name, width in renditions["webp"]] == [400, 800, 1600]
        assert [width for _name, width in renditions["fallback"]] == [400, 800, 1600]
        for source in page.sources:
            descriptors = [part.split()[-1] for part in source["srcset"].split(", ")]
            assert descriptors == ["400w", "800w", "1600w"]

    def test_a_narrow_image_is_never_upscaled(self):
        data = image_bytes("JPEG", size=(500, 250))
        assert self.post_hero_image(data, "narrow.jpg").status_code == 302
        renditions = Feature.objects.get(pk=self.feature.pk).hero_image_renditions
        stored = self.stored_renditions(renditions)
        for kind, image_format in [("webp", "WEBP"), ("fallback", "JPEG")]:
            with self.subTest(kind):
                assert [width for _name, width in renditions[kind]] == [400, 500]
                assert [(image.format, image.size) for image in stored[kind]] == [
                    (image_format, (400, 200)), (image_format, (500, 250)),
                ]  # fmt: skip

    def test_an_image_with_transparency_falls_back_to_png(self):
        data = image_bytes("PNG", size=(500, 250), mode="RGBA", colour=(200, 0, 0, 100))
        assert self.post_hero_image(data, "logo.png").status_code == 302
        renditions = Feature.objects.get(pk=self.feature.pk).hero_image_renditions
        assert renditions["fallback_type"] == "image/png"
        stored = self.stored_renditions(renditions)
        for kind, image_format in [("webp", "WEBP"), ("fallback", "PNG")]:
            for image in stored[kind]:
                with self.subTest(kind, width=image.width):
                    assert image.format == image_format
                    assert image.mode == "RGBA"
                    assert image.getpixel((10, 10))[3] < 255  # still see-through

    def test_renditions_are_made_once(self):
        data = image_bytes("JPEG", size=(1000, 500))
        assert self.post_hero_image(data, "once.jpg").status_code == 302
        feature = Feature.objects.get(pk=self.feature.pk)
        before = media_files()
        url = reverse("admin:features_feature_change", args=[feature.pk])
        with mock.patch("features.images.make_renditions") as make_renditions:
            form = change_form_data(self.client, url)
            form["title"] = "Saved again without a new image"
            assert self.client.post(url, form).status_code == 302
            feature.publish_at = feature.first_published_at = feature.created_at
            feature.status = Status.PUBLISHED
            feature.save()
            for _ in range(2):
                assert self.client.get(feature.get_absolute_url()).status_code == 200
        make_renditions.assert_not_called()
        assert media_files() == before
        assert Feature.objects.get(pk=feature.pk).hero_image_renditions == (
            feature.hero_image_renditions
        )

    def test_an_animated_gif_is_not_copied_again_on_every_save(self):
        frames = [Image.new("RGB", (60, 40), colour) for colour in ("red", "green", "blue")]
        buffer = io.BytesIO()
        frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=200)
        assert self.post_hero_image(buffer.getvalue(), "spin.gif").status_code == 302
        before = media_files()
        url = reverse("admin:features_feature_change", args=[self.feature.pk])
        form = change_form_data(self.client, url)
        assert self.client.post(url, form).status_code == 302
        assert media_files() == before

    def test_after_a_failed_rendition_saving_again_does_not_copy_the_original(self):
        with mock.patch("features.images.make_renditions", side_effect=OSError("disk full")):
            assert self.post_hero_image(image_bytes("JPEG"), "a.jpg").status_code == 302
            name = Feature.objects.get(pk=self.feature.pk).hero_image.name
            before = media_files()
            url = reverse("admin:features_feature_change", args=[self.feature.pk])
            assert self.client.post(url, change_form_data(self.client, url)).status_code == 302
        assert Feature.objects.get(pk=self.feature.pk).hero_image.name == name
        assert media_files() == before


class PicturePageTests(ImageUploadCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.live = make_feature("Live with a picture", authors=[cls.author])

    def test_feature_page_shows_a_picture_with_sources_and_dimensions(self):
        data = image_bytes("JPEG", size=(1000, 500))
        assert self.post_hero_image(data, "a.jpg", feature=self.live).status_code == 302
        feature = Feature.objects.get(pk=self.live.pk)
        renditions = feature.hero_image_renditions
        page = parse_picture(self.client.get(feature.get_absolute_url()))

        def srcset(kind):
            return ", ".join(
                f"{default_storage.url(name)} {width}w" for name, width in renditions[kind]
            )

        assert [source["type"] for source in page.sources] == ["image/webp", "image/jpeg"]
        assert page.sources[0]["srcset"] == srcset("webp")
        assert page.sources[1]["srcset"] == srcset("fallback")
        assert "400w" in page.sources[0]["srcset"] and "1000w" in page.sources[0]["srcset"]
        [img] = page.imgs
        assert img["src"] == default_storage.url(renditions["fallback"][-1][0])
        assert (img["width"], img["height"]) == ("1000", "500")
        assert img["alt"] == "A lighthouse at dusk"

    def test_author_page_shows_the_photo_as_a_picture(self):
        data = image_bytes("PNG", size=(600, 600))
        assert self.post_author_photo(data, "pat.png").status_code == 302
        page = parse_picture(self.client.get(self.author.get_absolute_url()))
        assert [source["type"] for source in page.sources] == ["image/webp", "image/jpeg"]
        [img] = page.imgs
        assert (img["width"], img["height"], img["alt"]) == ("600", "600", "Pat, smiling")

    def test_a_failed_rendition_falls_back_to_the_original_image(self):
        data = image_bytes("JPEG", size=(1000, 500))
        with mock.patch("features.images.make_renditions", side_effect=OSError("disk full")):
            response = self.post_hero_image(data, "a.jpg", feature=self.live)
        assert response.status_code == 302
        feature = Feature.objects.get(pk=self.live.pk)
        assert feature.hero_image_renditions == {"failed": True}
        response = self.client.get(feature.get_absolute_url())
        assert response.status_code == 200
        page = parse_picture(response)
        assert page.sources == []
        [img] = page.imgs
        assert img["src"] == feature.hero_image.url
        assert (img["width"], img["height"]) == ("1000", "500")
        # The original is still the cleaned one.
        assert stored_image(feature.hero_image.name)[0].size == (1000, 500)


class MissingFileTests(TestCase):
    def test_a_feature_whose_image_file_is_lost_is_still_served(self):
        feature = make_feature("Lost picture", hero_image_alt="The pier at dawn")
        # As uploads once left an image (no size stored), its file since lost.
        Feature.objects.filter(pk=feature.pk).update(hero_image="features/2009/03/gone.jpg")
        with self.assertLogs("features.images", "WARNING") as logs:
            response = self.client.get(feature.get_absolute_url())
        assert response.status_code == 200
        self.assertContains(response, 'alt="The pier at dawn"')
        assert "features/2009/03/gone.jpg" in logs.output[0]
