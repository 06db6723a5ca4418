from django.urls import reverse
from django.views.generic import TemplateView

from features.models import Author, Feature, Section, live_tags

from .models import ExternalFeed


class FeedIndexView(TemplateView):
    """The "News feeds" page: every feed a reader can subscribe to."""

    template_name = "feeds/feed_index.html"

    def get_context_data(self, **kwargs):
        live = Feature.objects.live()
        return super().get_context_data(
            sections=with_feeds(
                Section.objects.filter(pk__in=live.values("section_id")), "section"
            ),
            tags=with_feeds(live_tags().order_by("name"), "tag"),
            authors=with_feeds(Author.objects.with_live_features(), "author"),
            external_feeds=ExternalFeed.objects.all(),
            **kwargs,
        )


def with_feeds(queryset, kind):
    """
    (name, RSS address, Atom address) for each row. The page lists every tag and author
    with a live feature, thousands in a large archive: each feed's address is reversed
    once, with a stand-in slug, and each row's slug put in its place.
    """
    rss, atom = address_pattern(f"feeds:{kind}-rss"), address_pattern(f"feeds:{kind}-atom")
    return [(name, rss(slug), atom(slug)) for name, slug in queryset.values_list("name", "slug")]


def address_pattern(viewname):
    """The address of the page ``viewname`` for any slug (slugs need no quoting in a path)."""
    stand_in = "slug"
    head, _, tail = reverse(viewname, kwargs={"slug": stand_in}).rpartition(stand_in)
    return lambda slug: f"{head}{slug}{tail}"
