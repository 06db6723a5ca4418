import functools
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core import signing
from django.core.signals import setting_changed
from django.db import models
from django.db.models import Exists, F, FilteredRelation, OuterRef, Q
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.text import slugify
from reversion import register as register_versions
from taggit.managers import TaggableManager
from taggit.models import Tag, TaggedItemBase

from . import files, images
from .bylines import Credit, byline_parts, byline_role, byline_text, describe_role
from .files import DownloadFileField
from .formatting import local_datetime
from .images import CheckedImageField
from .sanitise import clean_html, html_to_text


def published_date(first_published_at, publish_at):
    """The date readers see: when a feature first went live (until then, when it is to)."""
    return first_published_at or publish_at


def reverse_slug(viewname, slug):
    """
    reverse() for the public pages named by a slug, remembered: a list of twenty features
    names each feature, section and author, and reverse() is costly next to the rest of a
    card. The address depends only on the name, the slug, the script prefix and the URLconf.
    """
    return _reversed(viewname, slug, get_script_prefix(), get_urlconf())


def slug_reverser(viewname):
    """reverse_slug() for many slugs of one page: the prefix and URLconf are read once."""
    prefix, urlconf = get_script_prefix(), get_urlconf()
    return lambda slug: _reversed(viewname, slug, prefix, urlconf)


@functools.lru_cache(maxsize=10_000)
def _reversed(viewname, slug, prefix, urlconf):
    return reverse(viewname, urlconf=urlconf, kwargs={"slug": slug})


def _forget_addresses(*, setting, **kwargs):
    if setting == "ROOT_URLCONF":
        _reversed.cache_clear()


setting_changed.connect(_forget_addresses, dispatch_uid="features-forget-addresses")


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    PUBLISHED = "published", "Published"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Step(models.TextChoices):
    """The workflow's steps, as the audit trail names them."""

    SUBMIT = "submit", "Submit for review"
    SEND_BACK = "send_back", "Send back"
    PUBLISH = "publish", "Publish"
    FORCE_PUBLISH = "force_publish", "Force publish"
    APPROVE = "approve", "Approve"
    UNPUBLISH = "unpublish", "Unpublish"
    WITHDRAW = "withdraw", "Withdraw"
    RESTORE = "restore", "Restore to draft"


class LiveQuerySet(models.QuerySet):
    def live(self, now=None):
        """
        What the public may see: published, and its publication time has come (by ``now``,
        where a compiled statement gives the time as a value: features/statements.py).
        """
        return self.filter(status=Status.PUBLISHED, publish_at__lte=now or timezone.now())

    def newest_live(self, via="", now=None):
        """
        Live rows, newest first. For features, ``via="tagging_"`` (after tagged()) also
        bounds and orders them by the tagging's copy, so the database walks the tag's index;
        the feature's own columns are checked as well.
        """
        now = now or timezone.now()
        rows = self.filter(status=Status.PUBLISHED, publish_at__lte=now)
        if not via:
            return rows.order_by("-publish_at", "-pk")
        return rows.filter(
            **{f"{via}status": Status.PUBLISHED, f"{via}publish_at__lte": now}
        ).order_by(f"-{via}publish_at", f"-{via}feature")


class FeatureQuerySet(LiveQuerySet):
    def tagged(self, tag):
        """
        Features carrying the tag. Each is joined to its tagging, which holds a copy of the
        feature's status and times (TaggedFeature), named ``tagging_status``,
        ``tagging_publish_at``, ``tagging_left_public_at`` and ``tagging_feature`` (the
        feature's id): lists of a tag filter and order by them to walk the tag's own index.
        (Named once, the join is shared by every later filter; a filter on the relation
        itself would join the taggings again each time.)
        """
        return (
            self.alias(tagging=FilteredRelation("taggings", condition=Q(taggings__tag=tag)))
            .alias(
                tagging_status=F("tagging__status"),
                tagging_publish_at=F("tagging__publish_at"),
                tagging_left_public_at=F("tagging__left_public_at"),
                tagging_feature=F("tagging__content_object_id"),
            )
            .filter(tagging_feature__isnull=False)
        )


class Publishable:
    """The same rule as LiveQuerySet.live(), for one row already in hand."""

    @property
    def is_live(self):
        return (
            self.status == Status.PUBLISHED
            and self.publish_at is not None
            and self.publish_at <= timezone.now()
        )


class AuthorQuerySet(models.QuerySet):
    def with_live_features(self):
        """Authors the public may see: those credited on a live feature."""
        return self.filter(Exists(Feature.objects.live().filter(bylines__author=OuterRef("pk"))))


def live_tags():
    """Tags the public may see: those on a live feature."""
    now = timezone.now()
    live_taggings = TaggedFeature.objects.filter(
        tag=OuterRef("pk"), status=Status.PUBLISHED, publish_at__lte=now,
        content_object__status=Status.PUBLISHED, content_object__publish_at__lte=now,
    )  # fmt: skip
    return Tag.objects.filter(Exists(live_taggings)).exclude(slug="")


class FeatureManager(models.Manager.from_queryset(FeatureQuerySet)):
    def get_queryset(self):
        # The search vector is for the database to search, never for Python to read.
        return super().get_queryset().defer("search_vector")


class Section(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(
        default=0, help_text="Sections are listed in this order, lowest first."
    )

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse_slug("features:section", self.slug)


class Author(models.Model):
    name = models.CharField(max_length=150)
    slug = models.SlugField(max_length=150, unique=True)
    job_title = models.CharField(
        max_length=200, blank=True, help_text="As it should read in a byline, e.g. “Head of News”."
    )
    organisation = models.CharField(
        max_length=200, blank=True, help_text="E.g. “The Health Foundation”."
    )
    bio = models.TextField("short biography", blank=True)
    photo = CheckedImageField(
        upload_to="authors/", blank=True, width_field="photo_width", height_field="photo_height",
        help_text="JPEG, PNG, WebP or GIF. Location and camera details are removed when saved.",
    )  # fmt: skip
    photo_width = models.PositiveIntegerField(editable=False, null=True)
    photo_height = models.PositiveIntegerField(editable=False, null=True)
    photo_renditions = models.JSONField(default=dict, editable=False, blank=True)
    photo_alt = models.CharField("photo alt text", max_length=250, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="author_profile",
        help_text="The staff account that writes as this author. Guest contributors have none.",
    )

    objects = AuthorQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(photo="") | ~Q(photo_alt=""),
                name="author_photo_has_alt",
                violation_error_message="Describe the photo in its alt text.",
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if images.needs_processing(self.photo, self.photo_renditions):
            self.photo_renditions = images.process(self.photo)
        elif not self.photo:
            self.photo_renditions = {}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse_slug("features:author", self.slug)

    def photo_picture(self):
        return images.picture(self.photo, self.photo_renditions)

    @property
    def role(self):
        return describe_role(self.job_title, self.organisation)


class DownloadCategory(models.TextChoices):
    CROSSWORD = "crossword", "Crossword"
    REPORT = "report", "Report"
    NEWSLETTER = "newsletter", "Newsletter"
    GUIDANCE = "guidance", "Guidance"
    OTHER = "other", "Other"


class Download(Publishable, models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(
        max_length=200, unique=True, help_text="Part of the permanent address of this download."
    )
    description = models.TextField(blank=True)
    category = models.CharField(
        max_length=20, choices=DownloadCategory.choices, default=DownloadCategory.OTHER
    )
    file = DownloadFileField(
        upload_to="downloads/%Y/%m/",
        storage=files.downloads_storage,
        help_text="PDF, Word, Excel, OpenDocument, CSV, plain text or ZIP. Replacing the file "
        "keeps this download's address; the earlier file stays listed as an earlier version.",
    )
    file_updated_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When the current file was uploaded."
    )
    mime_type = models.CharField(
        "detected type", max_length=120, editable=False, blank=True,
        help_text="Worked out from the file's content when it is saved.",
    )  # fmt: skip
    size = models.PositiveBigIntegerField(editable=False, null=True)
    page_count = models.PositiveIntegerField(editable=False, null=True)
    accessible_format = models.BooleanField(
        default=False,
        help_text="Tick if this file meets accessibility standards (e.g. a tagged PDF). "
        "If not, readers are offered an accessible version on request.",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    publish_at = models.DateTimeField(
        "publish at", null=True, blank=True,
        help_text="When the download becomes public, in UK time (GMT or BST). Leave empty "
        "while it is a draft.",
    )  # fmt: skip
    download_count = models.PositiveIntegerField(default=0, editable=False)
    left_public_at = models.DateTimeField(
        null=True, blank=True, editable=False,
        help_text="When the download last stopped being public.",
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LiveQuerySet.as_manager()

    class Meta:
        ordering = ["-publish_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=Status.PUBLISHED) | Q(publish_at__isnull=False),
                name="download_published_has_publish_at",
                violation_error_message="A published download needs its “publish at” time.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="download_status_valid"
            ),
            models.CheckConstraint(condition=~Q(slug=""), name="download_slug_not_empty"),
        ]
        indexes = [
            models.Index(
                fields=["-publish_at", "-id"],
                condition=Q(status=Status.PUBLISHED),
                name="download_live_idx",
            ),
            models.Index(
                fields=["category", "-publish_at"],
                condition=Q(status=Status.PUBLISHED),
                name="download_category_live_idx",
            ),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.title)[:200]
        if self.file and self.file.name != self._described_file:
            previous = self._loaded_description if self._described_file else None
            self.describe_file()
            self.file_updated_at = timezone.now()
        else:
            previous = None
        if self._was_live and not self.is_live:
            self.left_public_at = timezone.now()
        super().save(*args, **kwargs)
        if previous:
            # The file was replaced: the old one stays available as an earlier version.
            DownloadVersion.objects.create(download=self, **previous)
        self._described_file = self.file.name
        self._loaded_description = self.description_of_file()
        self._was_live = self.is_live

    def get_absolute_url(self):
        return reverse("features:download", kwargs={"slug": self.slug})

    @classmethod
    def from_db(cls, db, field_names, values):
        download = super().from_db(db, field_names, values)
        download._described_file = download.__dict__.get("file") and download.file.name
        download._was_live = {"status", "publish_at"} <= download.__dict__.keys() and (
            download.is_live
        )
        download._loaded_description = download.description_of_file()
        return download

    _described_file = None
    _loaded_description = None
    _was_live = False

    def description_of_file(self):
        """The current file and what is known of it, to keep when it is replaced."""
        needed = {"file", "mime_type", "size", "page_count", "file_updated_at", "created_at"}
        if needed & self.get_deferred_fields() or not self.file:
            return None
        return {
            "file": self.file.name,
            "mime_type": self.mime_type,
            "size": self.size,
            "page_count": self.page_count,
            "uploaded_at": self.file_updated_at or self.created_at,
        }

    def describe_file(self):
        """Record the new file's real type, size and (for PDFs) page count."""
        if self.file._committed:
            with self.file.open("rb") as handle:
                self._describe(handle)
        else:
            # A fresh upload: read it without closing it, the storage saves it next.
            self._describe(self.file.file)

    def _describe(self, handle):
        self.size = self.file.size
        self.mime_type = files.sniff_type(handle, self.file.name)
        is_pdf = self.mime_type == "application/pdf"
        self.page_count = files.pdf_page_count(handle) if is_pdf else None
        handle.seek(0)
        if not self.file._committed:
            # Named for what it is, whatever it was called on the uploader's computer.
            self.file.name = files.safe_filename(self.file.name, self.mime_type)

    @property
    def type_label(self):
        return files.TYPE_LABELS.get(self.mime_type, "File")

    @property
    def summary(self):
        """'PDF, 2 pages, 340 KB': what a reader gets by following the link."""
        return files.summarise(self.mime_type, self.page_count, self.size)


class DownloadVersion(models.Model):
    """An earlier file of a download, kept at its own address when the file was replaced."""

    download = models.ForeignKey(Download, on_delete=models.CASCADE, related_name="versions")
    file = models.FileField(upload_to="downloads/%Y/%m/", storage=files.downloads_storage)
    mime_type = models.CharField(max_length=120, blank=True)
    size = models.PositiveBigIntegerField(null=True)
    page_count = models.PositiveIntegerField(null=True)
    uploaded_at = models.DateTimeField(null=True)
    replaced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-replaced_at", "-pk"]

    def __str__(self):
        return f"{self.download} (replaced {self.replaced_at:%d %B %Y})"

    def get_absolute_url(self):
        return reverse(
            "features:download-version", kwargs={"slug": self.download.slug, "pk": self.pk}
        )

    @property
    def summary(self):
        return files.summarise(self.mime_type, self.page_count, self.size)


class TaggedFeature(TaggedItemBase):
    """
    One tag on one feature. Beside the pair it holds a copy of the feature's status,
    publication time and time it left the public, so that a tag's newest live features are
    one walk down an index however many features carry the tag. The database keeps the copy
    (migration 0017's triggers): every way of writing a feature, bulk updates included,
    keeps it right, and the public queries check the feature's own columns as well.
    """

    content_object = models.ForeignKey("Feature", on_delete=models.CASCADE, related_name="taggings")
    status = models.CharField(max_length=20, editable=False, blank=True, db_default="")
    publish_at = models.DateTimeField(null=True, editable=False)
    left_public_at = models.DateTimeField(null=True, editable=False)

    class Meta:
        verbose_name = "tag of a feature"
        constraints = [
            models.UniqueConstraint(
                fields=["content_object", "tag"], name="taggedfeature_once_per_feature"
            )
        ]
        indexes = [
            models.Index(
                fields=["tag", "-publish_at", "-content_object"],
                condition=Q(status=Status.PUBLISHED),
                name="taggedfeature_live_idx",
            ),
            models.Index(
                fields=["tag", "-left_public_at"],
                condition=Q(left_public_at__isnull=False),
                name="taggedfeature_left_idx",
            ),
        ]


class Feature(Publishable, models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(
        max_length=200, unique=True, help_text="The last part of the feature's address."
    )
    standfirst = models.TextField(
        max_length=600,
        help_text="One or two sentences under the title; also the summary in lists and feeds.",
    )
    body = models.TextField(
        blank=True, help_text="Cleaned when saved: scripts and unsafe links are removed."
    )
    body_text = models.TextField(editable=False, blank=True)
    section = models.ForeignKey(Section, on_delete=models.PROTECT, related_name="features")
    authors = models.ManyToManyField(Author, through="Byline", related_name="features")
    tags = TaggableManager(blank=True, through=TaggedFeature)
    hero_image = CheckedImageField(
        upload_to="features/%Y/%m/", blank=True,
        width_field="hero_image_width", height_field="hero_image_height",
        help_text="JPEG, PNG, WebP or GIF. Location and camera details are removed when saved.",
    )  # fmt: skip
    hero_image_renditions = models.JSONField(default=dict, editable=False, blank=True)
    hero_image_width = models.PositiveIntegerField(editable=False, null=True)
    hero_image_height = models.PositiveIntegerField(editable=False, null=True)
    hero_image_bytes = models.PositiveIntegerField(editable=False, null=True)
    hero_image_type = models.CharField(max_length=50, editable=False, blank=True)
    hero_image_alt = models.CharField(
        "hero image alt text", max_length=250, blank=True,
        help_text="What the image shows, for readers who cannot see it.",
    )  # fmt: skip
    hero_image_credit = models.CharField(max_length=200, blank=True)
    downloads = models.ManyToManyField(
        Download, blank=True, related_name="features", verbose_name="related downloads"
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.DRAFT, editable=False,
        help_text="Changed only by the workflow buttons.",
    )  # fmt: skip
    publish_at = models.DateTimeField(
        "publish at", null=True, blank=True, db_index=False,
        help_text="When the feature goes live (UK time). A future time schedules it.",
    )  # fmt: skip
    first_published_at = models.DateTimeField(editable=False, null=True)
    last_major_update_at = models.DateTimeField(
        "last updated", editable=False, null=True,
        help_text="Set when a published feature is changed in a way readers should know about.",
    )  # fmt: skip
    change_note = models.CharField(
        max_length=300, blank=True,
        help_text="For a published feature: what changed, as readers will see it.",
    )  # fmt: skip
    review_by = models.DateField(
        null=True, blank=True, help_text="When this feature should be checked again."
    )
    withdrawn_at = models.DateTimeField(editable=False, null=True)
    withdrawal_notice = models.TextField(editable=False, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    last_edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False,
        on_delete=models.SET_NULL, related_name="+",
        help_text="Who last submitted the feature for review.",
    )  # fmt: skip
    needs_approval = models.BooleanField(
        "needs retrospective approval", default=False, editable=False,
        help_text="Force-published by the editor who submitted it; another editor must approve it.",
    )  # fmt: skip
    version = models.PositiveIntegerField(
        default=1, editable=False,
        help_text="Goes up with every save, so a stale edit can be noticed and refused.",
    )  # fmt: skip
    source_id = models.CharField(
        max_length=500, unique=True, null=True, blank=True, editable=False,
        help_text="For features imported from another site's feed: the item's id there.",
    )  # fmt: skip
    left_public_at = models.DateTimeField(
        null=True, blank=True, editable=False,
        help_text="When the feature last stopped being public (unpublished or withdrawn).",
    )  # fmt: skip
    # Kept by a database trigger on PostgreSQL (migration 0010); unused on SQLite.
    search_vector = SearchVectorField(null=True, editable=False)

    objects = FeatureManager()

    class Meta:
        ordering = ["-publish_at", "-pk"]
        permissions = [
            ("publish_feature", "Can publish, schedule, unpublish and withdraw features"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=Status.PUBLISHED) | Q(publish_at__isnull=False),
                name="feature_published_has_publish_at",
            ),
            models.CheckConstraint(
                condition=~Q(status=Status.WITHDRAWN) | Q(withdrawn_at__isnull=False),
                name="feature_withdrawn_has_withdrawn_at",
            ),
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="feature_status_valid"
            ),
            models.CheckConstraint(condition=~Q(slug=""), name="feature_slug_not_empty"),
            models.CheckConstraint(
                condition=Q(hero_image="") | ~Q(hero_image_alt=""),
                name="feature_hero_image_has_alt",
                violation_error_message="Describe the hero image in its alt text.",
            ),
        ]
        indexes = [
            # The admin's list of every feature, newest first, and its date drill-down.
            models.Index(fields=["-publish_at", "-id"], name="feature_publish_at_idx"),
            # live() filters on status and publish_at and orders by publish_at:
            # a partial index holds just the published rows in that order.
            models.Index(
                fields=["-publish_at", "-id"],
                condition=Q(status=Status.PUBLISHED),
                name="feature_live_idx",
            ),
            models.Index(
                fields=["section", "-publish_at", "-id"],
                condition=Q(status=Status.PUBLISHED),
                name="feature_section_live_idx",
            ),
            models.Index(fields=["status", "publish_at"], name="feature_status_idx"),
            # Feeds ask when a feature last left them.
            models.Index(
                fields=["-left_public_at"],
                condition=Q(left_public_at__isnull=False),
                name="feature_left_public_idx",
            ),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.title)[:200]
        self.body = clean_html(self.body)
        self.body_text = html_to_text(self.body)
        if kwargs.get("update_fields") is not None and "body" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "body_text"}
        if images.needs_processing(self.hero_image, self.hero_image_renditions):
            self.hero_image_renditions = images.process(self.hero_image)
            self.describe_hero_image()
        elif not self.hero_image:
            self.hero_image_renditions = {}
            self.describe_hero_image()
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse_slug("features:detail", self.slug)

    @classmethod
    def from_db(cls, db, field_names, values):
        feature = super().from_db(db, field_names, values)
        # The page cache needs to know whether a save changes what the public sees.
        feature._loaded_status = feature.__dict__.get("status")
        feature._loaded_section_id = feature.__dict__.get("section_id")
        feature._loaded_live = {"status", "publish_at"} <= feature.__dict__.keys() and (
            feature.is_live
        )
        return feature

    def hero_picture(self):
        return images.picture(self.hero_image, self.hero_image_renditions)

    def describe_hero_image(self):
        """Keep the hero image's size in bytes and its type, for feeds to state."""
        if not self.hero_image:
            self.hero_image_bytes, self.hero_image_type = None, ""
            return
        self.hero_image_bytes = self.hero_image.size
        self.hero_image_type = files.image_mime_type(self.hero_image)

    @property
    def is_scheduled(self):
        return (
            self.status == Status.PUBLISHED
            and self.publish_at is not None
            and self.publish_at > timezone.now()
        )

    @property
    def published_date(self):
        return published_date(self.first_published_at, self.publish_at)

    def tag_list(self):
        """The feature's tags, as attach_parts() gave them if it did."""
        tags = self.__dict__.get("attached_tags")
        return tags if tags is not None else list(self.tags.all())

    def credits(self):
        """The byline's authors in order (as attach_parts() gave them, or prefetched)."""
        credits = self.__dict__.get("attached_credits")
        return credits if credits is not None else [b.credit for b in self.bylines.all()]

    def attach_parts(self, credits, tags):
        """Give the feature its byline credits and tags, read elsewhere (features/cards.py)."""
        self.attached_credits = list(credits)
        self.attached_tags = list(tags)

    @property
    def byline(self):
        return byline_text(self.credits())

    def byline_parts(self):
        return byline_parts(self.credits())

    def description(self):
        """Text for meta descriptions and summaries."""
        return self.standfirst or self.body_text[:300]


class Byline(models.Model):
    """One author of a feature, in order, with their role as it was at publication."""

    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="bylines")
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="bylines")
    position = models.PositiveSmallIntegerField(default=0)
    job_title = models.CharField(
        max_length=200, blank=True,
        help_text="As it should read on this feature. Left empty on a draft, the author's "
        "current job title is used and fixed when the feature is first published.",
    )  # fmt: skip
    organisation = models.CharField(
        max_length=200, blank=True,
        help_text="As it should read on this feature; see job title.",
    )  # fmt: skip
    role_frozen = models.BooleanField(
        default=False, editable=False,
        help_text="Set at first publication: the byline keeps this role from then on.",
    )  # fmt: skip

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["feature", "author"], name="byline_unique_author"),
        ]
        indexes = [models.Index(fields=["author", "feature"], name="byline_author_idx")]

    def __str__(self):
        return f"{self.author} on {self.feature}"

    def save(self, *args, **kwargs):
        # Joining a feature that is already out: the role is fixed from now on.
        if self.feature.first_published_at is not None:
            self.freeze_role()
        super().save(*args, **kwargs)

    @property
    def credit(self):
        """Until first publication freezes it, the role follows the author's current one."""
        job_title, organisation = byline_role(
            (self.job_title, self.organisation),
            self.role_frozen,
            (self.author.job_title, self.author.organisation),
        )
        return Credit(self.author.name, job_title, organisation, self.author.get_absolute_url())

    def freeze_role(self):
        """Copy the author's current role, unless an editor typed one for this byline."""
        if not self.role_frozen and not (self.job_title or self.organisation):
            self.job_title = self.author.job_title
            self.organisation = self.author.organisation
        self.role_frozen = True


def bylines_prefetch(byline_fields, author_fields):
    """
    Prefetches of features' bylines and their authors, reading only these columns. The
    authors come by primary key in a query of their own: joined to the bylines, PostgreSQL
    would hash every author in the database to find the few a page names.
    """
    return [
        models.Prefetch("bylines", queryset=Byline.objects.only(*byline_fields)),
        models.Prefetch("bylines__author", queryset=Author.objects.only(*author_fields)),
    ]


class Transition(models.Model):
    """One step of a feature's workflow: who moved it, from what, to what, and why."""

    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="transitions")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=30, choices=Step.choices)
    from_status = models.CharField(max_length=20, choices=Status.choices)
    to_status = models.CharField(max_length=20, choices=Status.choices)
    comment = models.TextField(blank=True)
    publish_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["feature", "-created_at"], name="transition_feature_idx")]

    def __str__(self):
        return f"{self.feature}: {self.get_from_status_display()} → {self.get_to_status_display()}"


def default_preview_expiry():
    return timezone.now() + timedelta(days=PREVIEW_LINK_DAYS)


PREVIEW_LINK_DAYS = 7
PREVIEW_SALT = "features.preview-link"


class PreviewLink(models.Model):
    """A signed, expiring, revocable address that shows a feature before it is live."""

    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="preview_links")
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    note = models.CharField(
        "who it is for", max_length=200, blank=True,
        help_text="E.g. “Pippa Gough, to check her quotes”.",
    )  # fmt: skip
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, editable=False,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(
        "expires at (UK time)",
        default=default_preview_expiry,
        help_text="UK time. The link stops working after this (7 days unless changed).",
    )
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Preview of {self.feature}" + (f" for {self.note}" if self.note else "")

    def get_absolute_url(self):
        return reverse("features:preview", kwargs={"token": self.token})

    @property
    def token(self):
        return signing.dumps(str(self.key), salt=PREVIEW_SALT)

    @property
    def is_active(self):
        return self.revoked_at is None and self.expires_at > timezone.now()

    @classmethod
    def from_token(cls, token):
        """The active link a token names, or None: bad, expired and revoked look alike."""
        try:
            key = uuid.UUID(signing.loads(token, salt=PREVIEW_SALT))
        except (signing.BadSignature, ValueError, TypeError):
            return None
        return (
            cls.objects.select_related("feature")
            .filter(key=key, revoked_at__isnull=True, expires_at__gt=timezone.now())
            .first()
        )


class PreviewLinkUse(models.Model):
    link = models.ForeignKey(PreviewLink, on_delete=models.CASCADE, related_name="uses")
    used_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-used_at"]

    def __str__(self):
        return f"{self.link} used {local_datetime(self.used_at)}"


# Every saved version keeps the whole feature and its byline. What a revert may change
# is limited in the admin (FeatureAdmin.revision_view): the workflow fields stay as they are.
EDITORIAL_FIELDS = [
    "title", "slug", "standfirst", "body", "section", "hero_image", "hero_image_alt",
    "hero_image_credit", "downloads", "review_by", "change_note",
]  # fmt: skip
register_versions(Feature, follow=["bylines"], exclude=["search_vector"])
register_versions(Byline)
