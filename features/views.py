import re
from pathlib import PurePosixPath

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Exists, F, OuterRef
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET, require_safe
from django.views.generic import DetailView, ListView, TemplateView
from taggit.models import Tag

from . import workflow
from .cards import COLUMNS, as_cards, attach_parts, cards_of, columns_of, plain_get
from .models import (
    Author,
    Download,
    DownloadCategory,
    DownloadVersion,
    Feature,
    PreviewLink,
    PreviewLinkUse,
    Section,
    Status,
)
from .pagination import ArchivePaginator, BuiltWhenNeeded, Listing, TagPaginator
from .search import search
from .statements import Statement

CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def with_page_parts(features):
    """
    Features with their section, and whether they have any downloads at all (most have
    none, and then feature_context() need not look for live ones); feature_context() adds
    their bylines and tags.
    """
    attached = Feature.downloads.through.objects.filter(feature=OuterRef("pk"))
    return features.select_related("section").annotate(has_downloads=Exists(attached))


# A feature's page reads its feature, section and whether it has downloads in one row, by a
# statement compiled once (features/statements.py), and makes the instances from it.
FEATURE_FIELDS = columns_of(Feature, leave_out=["search_vector"])
SECTION_FIELDS = columns_of(Section)


def feature_page_row(now, slug):
    features = with_page_parts(Feature.objects.live(now=now).filter(slug=slug))
    section = [f"section__{name}" for name in SECTION_FIELDS]
    return features.values_list(*FEATURE_FIELDS, *section, "has_downloads")[:1]


FEATURE_PAGE_ROW = Statement(feature_page_row)


def live_feature(slug):
    """The live feature at ``slug``, as with_page_parts() gives it, or None."""
    rows = FEATURE_PAGE_ROW.rows(timezone.now(), slug)
    if not rows:
        return None
    (row,) = rows
    using, size = FEATURE_PAGE_ROW.using, len(FEATURE_FIELDS)
    feature = Feature.from_db(using, FEATURE_FIELDS, row[:size])
    feature.section = Section.from_db(using, SECTION_FIELDS, row[size:-1])
    feature.has_downloads = row[-1]
    return feature


def card_list(build):
    """A list of live features shown as cards: ``build(now, *scope)`` gives them (Listing)."""
    return Listing(build, COLUMNS, lambda rows: list(cards_of(rows)))


class FeaturePageMixin:
    """Paginated lists of live features, never counted (see features/pagination.py)."""

    paginate_by = settings.NEWSROOM["FEATURES_PER_PAGE"]
    paginator_class = ArchivePaginator
    context_object_name = "features"

    def paginate_queryset(self, queryset, page_size):
        before, after = self.request.GET.get("before"), self.request.GET.get("after")
        if not issubclass(self.paginator_class, ArchivePaginator) or not (before or after):
            return super().paginate_queryset(queryset, page_size)
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.page_before(before) if before else paginator.page_after(after)
        return paginator, page, page.object_list, True

    # The list (the paginator reads its first page, and pages before a cursor, by statements
    # compiled once), and the ids that pick it out, set by get_queryset().
    listing = card_list(lambda now: Feature.objects.live(now=now))
    scope = ()

    def get_queryset(self):
        return self.listed()

    def listed(self, *scope):
        """The list's cards, as a queryset built only if a page needs the ORM."""
        self.scope, now = scope, timezone.now()
        return BuiltWhenNeeded(Feature, lambda: as_cards(self.listing.build(now, *scope)))

    def get_paginator(self, queryset, per_page, **kwargs):
        paginator = super().get_paginator(queryset, per_page, **kwargs)
        if isinstance(paginator, ArchivePaginator):
            paginator.listing = self.listing.bind(*self.scope)
        return paginator

    # A list that exists only while it has a live feature (a tag's, an author's): its first
    # page, already read, says so, where ListView's allow_empty would ask the database again.
    missing_when_empty = None

    def get_context_data(self, **kwargs):
        # Lists show each feature as a card, read as plain rows (features/cards.py).
        context = super().get_context_data(**kwargs)
        if self.missing_when_empty and not context["features"]:
            raise Http404(self.missing_when_empty)
        return context


class HomeView(TemplateView):
    template_name = "features/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        now = timezone.now()
        context["features"] = list(cards_of(HOME_FEATURES.rows(now)))
        rows = LATEST_CROSSWORD.rows(now)
        crossword = rows and Download.from_db(LATEST_CROSSWORD.using, DOWNLOAD_FIELDS, rows[0])
        context["crossword"] = crossword or None
        return context


# The home page's queries, compiled once (features/statements.py).
def home_features(now):
    return Feature.objects.live(now=now).values_list(*COLUMNS)[: settings.NEWSROOM["HOME_FEATURES"]]


def latest_crossword(now):
    crosswords = Download.objects.live(now=now).filter(category=DownloadCategory.CROSSWORD)
    return crosswords.values_list(*DOWNLOAD_FIELDS)[:1]


HOME_FEATURES = Statement(home_features)
DOWNLOAD_FIELDS = columns_of(Download)
LATEST_CROSSWORD = Statement(latest_crossword)


class FeatureListView(FeaturePageMixin, ListView):
    template_name = "features/feature_list.html"


class FeatureDetailView(DetailView):
    """A live feature; for staff who may edit it, a preview of one that is not live yet."""

    context_object_name = "feature"
    preview = False

    def get_object(self, queryset=None):
        feature = live_feature(self.kwargs["slug"])
        if feature is None:
            raise Http404("No live feature has this address.")
        return feature

    def get(self, request, *args, **kwargs):
        try:
            return super().get(request, *args, **kwargs)
        except Http404:
            feature = with_page_parts(Feature.objects.filter(slug=kwargs["slug"])).first()
            if feature is None:
                raise
            if workflow.may_preview(request.user, feature):
                return render_preview(request, feature)
            if feature.status != Status.WITHDRAWN:
                raise
            return render(
                request, "features/feature_withdrawn.html", {"feature": feature}, status=410
            )

    def get_context_data(self, **kwargs):
        return super().get_context_data(**feature_context(self.request, self.object), **kwargs)


def feature_context(request, feature):
    # Bylines and tags as plain rows: prefetched as model instances they cost more than
    # the rest of the page (see features/cards.py).
    attach_parts([feature])
    has_downloads = getattr(feature, "has_downloads", True)  # see with_page_parts()
    return {
        "downloads": list(feature.downloads.live()) if has_downloads else [],
        "canonical_url": request.build_absolute_uri(feature.get_absolute_url()),
        "structured_data": news_article_data(request, feature),
    }


def render_preview(request, feature, link=None):
    """The feature as it will look, marked as a preview, never cached or indexed."""
    context = {"feature": feature, "preview": True, "preview_link": link}
    context.update(feature_context(request, feature))
    response = render(request, "features/feature_detail.html", context)
    patch_cache_control(response, private=True, no_cache=True, no_store=True)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_GET
def preview_link(request, token):
    """A preview for someone without an account; bad, expired and revoked links are 404."""
    link = PreviewLink.from_token(token)
    if link is None or link.feature.status == Status.WITHDRAWN:
        raise Http404("No such preview.")
    if link.feature.is_live:
        return redirect(link.feature)
    PreviewLinkUse.objects.create(
        link=link,
        ip_address=request.META.get("REMOTE_ADDR") or None,
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
    )
    feature = with_page_parts(Feature.objects.filter(pk=link.feature_id)).get()
    response = render_preview(request, feature, link)
    response["Referrer-Policy"] = "no-referrer"
    return response


def news_article_data(request, feature):
    """schema.org NewsArticle for search engines."""
    published = feature.published_date or timezone.now()
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": feature.title,
        "description": feature.description(),
        "datePublished": published.isoformat(),
        "dateModified": (feature.last_major_update_at or published).isoformat(),
        "mainEntityOfPage": request.build_absolute_uri(feature.get_absolute_url()),
        "articleSection": feature.section.name,
        "keywords": [tag.name for tag in feature.tag_list()],
        "author": [
            {
                "@type": "Person",
                "name": credit.name,
                "jobTitle": credit.job_title,
                "url": request.build_absolute_uri(credit.url),
            }
            for credit in feature.credits()
        ],
        "publisher": {"@type": "Organization", "name": settings.NEWSROOM["PUBLISHER"]},
    }
    if feature.hero_image:
        data["image"] = request.build_absolute_uri(feature.hero_image.url)
    return data


class SectionView(FeaturePageMixin, ListView):
    template_name = "features/section_detail.html"

    def get_queryset(self):
        self.section = get_object_or_404(Section, slug=self.kwargs["slug"])
        return self.listed(self.section.pk)

    listing = card_list(lambda now, section: Feature.objects.live(now=now).filter(section=section))

    def get_context_data(self, **kwargs):
        return super().get_context_data(section=self.section, **kwargs)


class AuthorView(FeaturePageMixin, ListView):
    """An author's page exists only once they have a live feature: drafts name nobody."""

    template_name = "features/author_detail.html"
    missing_when_empty = "No live feature names this author."

    def get_queryset(self):
        self.author = get_object_or_404(Author, slug=self.kwargs["slug"])
        return self.listed(self.author.pk)

    listing = card_list(
        lambda now, author: Feature.objects.live(now=now).filter(bylines__author=author)
    )

    def get_context_data(self, **kwargs):
        return super().get_context_data(author=self.author, **kwargs)


class TagView(FeaturePageMixin, ListView):
    """A tag's page exists only while a live feature carries it."""

    template_name = "features/tag_detail.html"
    missing_when_empty = "No live feature carries this tag."

    paginator_class = TagPaginator

    def get_queryset(self):
        self.tag = plain_get(Tag, ("id", "name", "slug"), "slug", self.kwargs["slug"])
        if self.tag is None:
            raise Http404("No such tag.")
        return self.listed(self.tag.pk)

    # Walks the tag's own index of its taggings (TaggedFeature), newest first.
    listing = card_list(
        lambda now, tag: Feature.objects.tagged(tag).newest_live(via="tagging_", now=now)
    )

    def get_context_data(self, **kwargs):
        return super().get_context_data(tag=self.tag, **kwargs)


class SearchView(FeaturePageMixin, ListView):
    """Search results are counted: readers expect to be told how many there are."""

    template_name = "features/search.html"
    paginator_class = Paginator

    def get_queryset(self):
        # Control characters (NUL above all, which PostgreSQL refuses) are dropped.
        raw = CONTROL_CHARACTERS.sub(" ", self.request.GET.get("q", ""))
        self.query = " ".join(raw.split())[: settings.NEWSROOM["SEARCH_MAX_LENGTH"]]
        if not self.query:
            return []
        return search(self.query)  # its matches, as cards

    def get_context_data(self, **kwargs):
        return super().get_context_data(query=self.query, **kwargs)


class DownloadListView(ListView):
    template_name = "features/download_list.html"
    context_object_name = "downloads"
    paginate_by = 20

    def get_queryset(self):
        return Download.objects.live().prefetch_related("versions")


@require_safe
def download_file(request, slug):
    """Serve the current file of a live download, counted, as an attachment."""
    download = get_object_or_404(Download.objects.live(), slug=slug)
    response = serve_file(download.file, download.mime_type, download.slug)
    if request.method == "GET":  # a HEAD request (a feed reader checking) is not a download
        Download.objects.filter(pk=download.pk).update(download_count=F("download_count") + 1)
    return response


@require_safe
def download_version(request, slug, pk):
    """An earlier file of a live download, at its own permanent address."""
    version = get_object_or_404(
        DownloadVersion.objects.filter(download__in=Download.objects.live()),
        download__slug=slug,
        pk=pk,
    )
    return serve_file(version.file, version.mime_type, f"{slug}-earlier-version")


def serve_file(field_file, mime_type, name):
    """A stored file as an attachment of its real type, never sniffed or run as a page."""
    try:
        handle = field_file.open("rb")
    except FileNotFoundError as error:
        raise Http404("The file of this download is missing.") from error
    extension = PurePosixPath(field_file.name).suffix
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"{name}{extension}",
        content_type=mime_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    # Every download is checked and counted here: no cache or CDN may answer for us.
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_GET
def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /search/",
        f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
