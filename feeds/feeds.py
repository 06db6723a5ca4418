from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from features.models import Author, Byline, Download, Feature, Section, live_tags


class FeatureFeed(Feed):
    """What every feature feed has in common: live items, newest first, a fixed limit."""

    limit = 20

    def title(self, obj):
        return f"{settings.NEWSROOM['SITE_NAME']} — {self.heading(obj)}"

    def heading(self, obj):
        return "Latest features"

    def description(self, obj):
        return f"{self.heading(obj)} from {settings.NEWSROOM['SITE_NAME']}."

    def link(self, obj):
        return obj.get_absolute_url() if obj else reverse("features:list")

    def feature_queryset(self, obj):
        return Feature.objects.live()

    def items(self, obj):
        return (
            self.feature_queryset(obj)
            .select_related("section")
            .prefetch_related(
                Prefetch("bylines", queryset=Byline.objects.select_related("author")), "tags"
            )[: self.limit]
        )

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return item.standfirst

    def item_pubdate(self, item):
        return item.published_date

    def item_updateddate(self, item):
        return item.last_major_update_at or item.published_date

    def item_author_name(self, item):
        return item.byline

    def item_categories(self, item):
        return [tag.name for tag in item.tags.all()]

    def item_guid(self, item):
        return f"tag:newsroom,2009:feature:{item.pk}"

    item_guid_is_permalink = False


class LatestFeed(FeatureFeed):
    pass


class SectionFeed(FeatureFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Section, slug=slug)

    def heading(self, obj):
        return f"{obj.name}"

    def feature_queryset(self, obj):
        return Feature.objects.live().filter(section=obj)


class TagFeed(FeatureFeed):
    def get_object(self, request, slug):
        return get_object_or_404(live_tags(), slug=slug)

    def heading(self, obj):
        return f"Features tagged {obj.name}"

    def link(self, obj):
        return reverse("features:tag", kwargs={"slug": obj.slug})

    def feature_queryset(self, obj):
        return Feature.objects.live().filter(tags=obj)


class AuthorFeed(FeatureFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Author.objects.with_live_features(), slug=slug)

    def heading(self, obj):
        return f"Features by {obj.name}"

    def feature_queryset(self, obj):
        return Feature.objects.live().filter(bylines__author=obj)


def atom(feed_class):
    return type(f"{feed_class.__name__}Atom", (feed_class,), {"feed_type": Atom1Feed})


class DownloadsFeed(Feed):
    limit = 20

    def title(self):
        return f"{settings.NEWSROOM['SITE_NAME']} — Downloads"

    def description(self):
        return f"Crosswords, reports and newsletters from {settings.NEWSROOM['SITE_NAME']}."

    def link(self):
        return reverse("features:downloads")

    def items(self):
        return Download.objects.live()[: self.limit]

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return f"{item.description} ({item.summary})".strip()

    def item_pubdate(self, item):
        return item.publish_at

    def item_guid(self, item):
        return f"tag:newsroom,2009:download:{item.pk}"

    item_guid_is_permalink = False

    def item_enclosure_url(self, item):
        return item.get_absolute_url()

    def item_enclosure_length(self, item):
        return item.size or 0

    def item_enclosure_mime_type(self, item):
        return item.mime_type or "application/octet-stream"
