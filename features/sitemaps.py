from django.contrib.sitemaps import Sitemap
from django.db.models import Max, Q
from django.urls import reverse

from .models import Feature, Section


class FeatureSitemap(Sitemap):
    changefreq = "monthly"
    limit = 5000

    def items(self):
        return (
            Feature.objects.live()
            .only("slug", "updated_at", "publish_at")
            .order_by("-publish_at", "-pk")
        )

    def lastmod(self, feature):
        # A scheduled feature goes live after its last save: it changed then.
        return max(feature.updated_at, feature.publish_at)


class SectionSitemap(Sitemap):
    changefreq = "daily"

    def items(self):
        return (
            Section.objects.annotate(
                latest=Max("features__publish_at", filter=Q(features__in=Feature.objects.live()))
            )
            .filter(latest__isnull=False)
            .order_by("position", "name")
        )

    def lastmod(self, section):
        return section.latest


class PageSitemap(Sitemap):
    changefreq = "daily"

    def items(self):
        return ["features:home", "features:list", "features:downloads"]

    def location(self, name):
        return reverse(name)


sitemaps = {"pages": PageSitemap, "sections": SectionSitemap, "features": FeatureSitemap}
