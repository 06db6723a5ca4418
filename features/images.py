"""
Uploaded images: checked, cleaned of metadata, and cut into renditions once, when saved.

Renditions are WebP with a JPEG (or, for images with transparency, PNG) fallback at a few
widths, never wider than the original. Their storage names are kept on the row in a JSON
field, so a page shows a <picture> without a query or a storage call per image.
"""

import io
import logging
import secrets
from pathlib import PurePosixPath

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models
from django.utils.text import get_valid_filename, slugify
from PIL import Image, ImageOps, UnidentifiedImageError

logger = logging.getLogger(__name__)

ALLOWED_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "GIF": "GIF"}
EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "GIF": ".gif"}
RENDITION_WIDTHS = (400, 800, 1600)


def limits():
    return settings.NEWSROOM["IMAGE_MAX_BYTES"], settings.NEWSROOM["IMAGE_MAX_PIXELS"]


def validate_image(upload):
    """Refuse anything but a real JPEG, PNG, WebP or GIF of a sensible size, with a reason."""
    max_bytes, max_pixels = limits()
    if upload.size > max_bytes:
        raise ValidationError(
            f"This image is {upload.size / 1024 / 1024:.1f} MB; the largest allowed is "
            f"{max_bytes / 1024 / 1024:.0f} MB. Save it smaller and upload it again.",
            code="too_large",
        )
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image_format, (width, height) = image.format, image.size
            if image_format not in ALLOWED_FORMATS:
                raise ValidationError(
                    f"{image_format} images are not accepted. Upload a JPEG, PNG, WebP or GIF.",
                    code="format",
                )
            frames = getattr(image, "n_frames", 1)
            if width * height * frames > max_pixels:
                raise ValidationError(
                    f"This image is {width} × {height} pixels"
                    f"{f' in {frames} frames' if frames > 1 else ''}, more than the "
                    f"{max_pixels // 1_000_000} million allowed. Make it smaller and try again.",
                    code="too_many_pixels",
                )
            # Decode every pixel now: a damaged file is refused here, not stored as it came.
            image.load()
    except Image.DecompressionBombError as error:
        raise ValidationError(
            "This image claims an enormous number of pixels and was refused.",
            code="too_many_pixels",
        ) from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ValidationError(
            "This file is not an image we can use. Upload a JPEG, PNG, WebP or GIF.",
            code="not_an_image",
        ) from error
    finally:
        upload.seek(0)
    if image_format not in ALLOWED_FORMATS:
        raise ValidationError(
            f"{image_format} images are not accepted. Upload a JPEG, PNG, WebP or GIF.",
            code="format",
        )


def clean_image(field_file):
    """
    The image re-encoded without its metadata (location, camera, comments), turned the way
    its EXIF orientation says, under a safe file name. Returns (name, bytes, format).
    """
    was_closed = field_file.closed
    field_file.open("rb")
    try:
        with Image.open(field_file) as image:
            image_format = image.format
            animated = getattr(image, "is_animated", False)
            icc_profile = image.info.get("icc_profile")
            if animated:
                frames = list(_frames(image))
                cleaned = frames[0]
            else:
                cleaned = ImageOps.exif_transpose(image)
                cleaned.load()
            output = io.BytesIO()
            if animated:
                # Animations are kept as GIFs, whatever they came as.
                image_format = "GIF"
                for frame in frames:
                    frame.info.clear()
                cleaned.save(
                    output, "GIF", save_all=True, append_images=frames[1:],
                    loop=image.info.get("loop", 0), duration=image.info.get("duration", 100),
                )  # fmt: skip
            else:
                _encode(cleaned, image_format, output, icc_profile)
    finally:
        if was_closed:
            field_file.close()
        else:
            field_file.seek(0)
    # A random part keeps the address of an unpublished feature's image unguessable.
    stem = slugify(PurePosixPath(field_file.name).stem)[:80] or "image"
    name = get_valid_filename(f"{stem}-{secrets.token_hex(4)}{EXTENSIONS[image_format]}")
    return name, output.getvalue(), image_format


def _frames(image):
    for index in range(image.n_frames):
        image.seek(index)
        yield image.convert("RGBA")


def _encode(image, image_format, output, icc_profile=None):
    """
    Save without metadata: no exif, xmp, comments or text chunks are passed on. The colour
    profile is kept (it says nothing about anyone, and without it colours shift).
    """
    image.info.clear()
    colour = {"icc_profile": icc_profile} if icc_profile else {}
    if image_format == "JPEG":
        image.convert("RGB").save(
            output, "JPEG", quality=88, optimize=True, progressive=True, **colour
        )
    elif image_format == "PNG":
        image.save(output, "PNG", optimize=True, **colour)
    elif image_format == "WEBP":
        image.save(output, "WEBP", quality=85, **colour)
    else:
        image.save(output, "GIF")


def has_alpha(image):
    return image.mode in {"RGBA", "LA", "PA"} or (
        image.mode == "P" and "transparency" in image.info
    )


def make_renditions(name, data):
    """
    Write WebP and JPEG/PNG renditions of an image at each width up to its own, and return
    what a <picture> needs: {"width", "height", "webp": [[name, w], …], "fallback": {…}}.
    """
    with Image.open(io.BytesIO(data)) as image:
        if getattr(image, "is_animated", False):
            # An animation is shown as it is; saying so keeps it from being cut again.
            return {"animated": True, "width": image.width, "height": image.height}
        image.load()
        width, height = image.size
        widths = [w for w in RENDITION_WIDTHS if w < width]
        if min(width, RENDITION_WIDTHS[-1]) not in widths:
            widths.append(min(width, RENDITION_WIDTHS[-1]))
        alpha = has_alpha(image)
        fallback_type = "image/png" if alpha else "image/jpeg"
        base = PurePosixPath("renditions") / PurePosixPath(name).parent / PurePosixPath(name).stem
        result = {"width": width, "height": height, "webp": [], "fallback": [],
                  "fallback_type": fallback_type}  # fmt: skip
        for target in widths:
            resized = image if target == width else image.resize(
                (target, round(height * target / width)), Image.Resampling.LANCZOS
            )  # fmt: skip
            resized = resized.convert("RGBA" if alpha else "RGB")
            result["webp"].append([_store(f"{base}-{target}.webp", resized, "WEBP"), target])
            fallback_format = "PNG" if alpha else "JPEG"
            extension = ".png" if alpha else ".jpg"
            result["fallback"].append(
                [_store(f"{base}-{target}{extension}", resized, fallback_format), target]
            )
    return result


def _store(name, image, image_format):
    output = io.BytesIO()
    if image_format == "WEBP":
        image.save(output, "WEBP", quality=80, method=4)
    elif image_format == "JPEG":
        image.save(output, "JPEG", quality=82, optimize=True, progressive=True)
    else:
        image.save(output, "PNG", optimize=True)
    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(output.getvalue()))


def needs_processing(field_file, renditions):
    """A fresh upload, or a stored image that has never been cut into renditions."""
    return bool(field_file) and (not field_file._committed or not renditions)


def process(field_file):
    """
    Clean a newly set image and cut its renditions. Returns the renditions: empty when they
    could not be made, and pages then show the original. Files are never deleted here: an
    older version of the feature may still name them.
    """
    try:
        name, data, _format = clean_image(field_file)
    except (UnidentifiedImageError, OSError, ValueError, KeyError) as error:
        logger.warning("Could not clean the image %s: %s", field_file.name, error)
        return {}
    # Named, so the image field reads its width and height from it and stores them.
    field_file.save(name, ContentFile(data, name=name), save=False)
    try:
        return make_renditions(field_file.name, data)
    except (OSError, ValueError) as error:
        logger.warning("Could not make renditions of %s: %s", field_file.name, error)
        # Recorded, so later saves do not clean and copy the image again.
        return {"failed": True}


class CheckedImageFormField(forms.ImageField):
    """An image upload refused with a clear reason when it is not one we can use."""

    def to_python(self, data):
        if data and hasattr(data, "size") and hasattr(data, "seek"):
            validate_image(data)
        return super().to_python(data)


class CheckedImageField(models.ImageField):
    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": CheckedImageFormField, **kwargs})

    def update_dimension_fields(self, instance, force=False, *args, **kwargs):
        """
        As Django's, but an image whose size is not stored and whose file cannot be read
        keeps an unknown size: its row still loads, and its page is still served.
        """
        try:
            super().update_dimension_fields(instance, force, *args, **kwargs)
        except OSError as error:
            name = instance.__dict__.get(self.attname)
            logger.warning("Could not read the size of the image %s: %s", name, error)


def picture(field_file, renditions):
    """What the <picture> template needs, with storage URLs; the original if no renditions."""
    if not field_file:
        return None
    if not renditions or not renditions.get("webp"):
        return {"src": field_file.url, "webp_srcset": "", "srcset": ""}
    url = default_storage.url

    def srcset(entries):
        return ", ".join(f"{url(name)} {width}w" for name, width in entries)

    largest, width = renditions["fallback"][-1]
    return {
        "src": url(largest),
        "webp_srcset": srcset(renditions["webp"]),
        "srcset": srcset(renditions["fallback"]),
        "fallback_type": renditions["fallback_type"],
        "width": width,
        "height": round(renditions["height"] * width / renditions["width"]),
    }
