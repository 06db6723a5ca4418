from django.views.generic import TemplateView

from features.models import Author, Feature, Section, live_tags

from .models import ExternalFeed


class FeedIndexView(TemplateView):
    """The "News feeds" page: every feed a reader can subscribe to."""

    template_name = "feeds/feed_index.html"

    def get_context_data(self, **kwargs):
        live = Feature.objects.live()
        return super().get_context_data(
            sections=Section.objects.filter(pk__in=live.values("section_id")),
            tags=live_tags().order_by("name"),
            authors=Author.objects.with_live_features(),
            external_feeds=ExternalFeed.objects.all(),
            **kwargs,
        )
