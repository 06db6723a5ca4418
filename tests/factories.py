"""Helpers that make rows for tests, with sensible defaults."""

import io
import itertools
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.db.models.fields.files import FieldFile
from django.forms import MultiWidget
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image

from features.models import Author, Byline, Download, DownloadCategory, Feature, Section, Status

_counter = itertools.count(1)


def unique(prefix):
    return f"{prefix}-{next(_counter)}"


def make_section(name=None, **fields):
    name = name or unique("Section")
    return Section.objects.create(name=name, slug=fields.pop("slug", name.lower()), **fields)


def make_author(name=None, **fields):
    name = name or unique("Author")
    slug = fields.pop("slug", name.lower().replace(" ", "-"))
    return Author.objects.create(name=name, slug=slug, **fields)


def make_co_authors(**gough_fields):
    """The seed page's two co-authors, who share a role: Pippa Gough and Abigail Masterson."""
    role = {"job_title": "Assistant Director in Clinical Quality",
            "organisation": "The Health Foundation"}  # fmt: skip
    return make_author("Pippa Gough", **role, **gough_fields), make_author(
        "Abigail Masterson", **role
    )


def make_feature(
    title=None, *, section=None, authors=(), tags=(), status=Status.PUBLISHED,
    publish_at=None, **fields,
):  # fmt: skip
    title = title or unique("Feature")
    if status == Status.PUBLISHED and publish_at is None:
        publish_at = timezone.now() - timedelta(days=1)
    if status == Status.WITHDRAWN:
        fields.setdefault("withdrawn_at", timezone.now())
    feature = Feature.objects.create(
        title=title,
        slug=fields.pop("slug", slugify(title)),
        section=section or make_section(),
        standfirst=fields.pop("standfirst", f"The standfirst of {title}."),
        body=fields.pop("body", f"<p>The body of {title}.</p>"),
        status=status,
        publish_at=publish_at,
        first_published_at=publish_at if status == Status.PUBLISHED else None,
        **fields,
    )
    for position, author in enumerate(authors):
        Byline.objects.create(feature=feature, author=author, position=position)
    if tags:
        feature.tags.set(list(tags))
    return feature


def features_listed(response):
    """The features a list page showed, in order (lists give the template Cards)."""
    cards = list(response.context_data["features"])
    found = Feature.objects.in_bulk([card.pk for card in cards])
    return [found[card.pk] for card in cards]


def pdf_bytes(pages=2):
    images = [Image.new("RGB", (200, 280), "white") for _ in range(pages)]
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", save_all=True, append_images=images[1:])
    return buffer.getvalue()


def jpeg_bytes(size=(40, 30), colour="navy"):
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG")
    return buffer.getvalue()


def make_download(title=None, *, status=Status.PUBLISHED, publish_at=None, content=None,
                  filename="file.pdf", category=DownloadCategory.REPORT, **fields):  # fmt: skip
    title = title or unique("Download")
    if status == Status.PUBLISHED and publish_at is None:
        publish_at = timezone.now() - timedelta(days=1)
    download = Download(
        title=title,
        slug=fields.pop("slug", title.lower().replace(" ", "-")),
        status=status,
        publish_at=publish_at,
        category=category,
        **fields,
    )
    download.file.save(filename, ContentFile(content or pdf_bytes()), save=False)
    download.save()
    return download


def make_user(username=None, group=None, **fields):
    user = get_user_model().objects.create_user(
        username=username or unique("user"), password="a-long-test-password", is_staff=True,
        **fields,
    )  # fmt: skip
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def _form_values(form, data):
    for name, field in form.fields.items():
        key = form.add_prefix(name)
        value = form[name].value()
        if value is None or isinstance(value, FieldFile):
            continue
        if isinstance(field.widget, MultiWidget):
            if not isinstance(value, list | tuple):
                value = field.widget.decompress(value)
            for index, (widget, part) in enumerate(zip(field.widget.widgets, value, strict=True)):
                data[f"{key}_{index}"] = widget.format_value(part) or ""
        elif isinstance(value, bool):
            if value:
                data[key] = "on"
        elif isinstance(value, list | tuple):
            data[key] = [str(getattr(item, "pk", item)) for item in value]
        else:
            data[key] = str(getattr(value, "pk", value))


def change_form_data(client, url):
    """What a browser would post back from an admin change page, unchanged."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    data = {}
    _form_values(response.context["adminform"].form, data)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        _form_values(formset.management_form, data)
        for form in formset.forms:
            _form_values(form, data)
    return data
