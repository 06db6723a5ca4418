from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from .models import Feature, Section


class FeatureSitemap(Sitemap):
    changefreq = "monthly"
    limit = 5000

    def items(self):
        return Feature.objects.live().only("slug", "updated_at").order_by("-publish_at", "-pk")

    def lastmod(self, feature):
        return feature.updated_at


class SectionSitemap(Sitemap):
    changefreq = "daily"

    def items(self):
        return Section.objects.filter(pk__in=Feature.objects.live().values("section_id"))


class PageSitemap(Sitemap):
    changefreq = "daily"

    def items(self):
        return ["features:home", "features:list", "features:downloads"]

    def location(self, name):
        return reverse(name)


sitemaps = {"pages": PageSitemap, "sections": SectionSitemap, "features": FeatureSitemap}
