import functools
from typing import NamedTuple

from django.conf import settings
from django.core.signals import setting_changed
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.functional import SimpleLazyObject

from .cards import plain_rows
from .models import Section, reverse_slug

# The pages every page links to, by name in the templates' ``links``.
SITE_LINKS = {
    "home": "features:home",
    "search": "features:search",
    "features": "features:list",
    "downloads": "features:downloads",
    "feeds": "feeds:index",
    "latest_rss": "feeds:latest-rss",
    "latest_atom": "feeds:latest-atom",
    "accessibility": "features:accessibility",
}


class NavLink(NamedTuple):
    name: str
    url: str


def site(request):
    """The site's name, its fixed links, and its sections, queried only if a page shows them."""
    return {
        "site": settings.NEWSROOM,
        "links": SimpleLazyObject(lambda: site_links(get_script_prefix(), get_urlconf())),
        "nav_sections": SimpleLazyObject(nav_sections),
    }


@functools.lru_cache(maxsize=16)
def site_links(prefix, urlconf):
    """reverse() of SITE_LINKS, worked out once: the addresses never change while we run."""
    return {key: reverse(name, urlconf=urlconf) for key, name in SITE_LINKS.items()}


def _forget_links(*, setting, **kwargs):
    if setting == "ROOT_URLCONF":
        site_links.cache_clear()


setting_changed.connect(_forget_links, dispatch_uid="features-forget-links")


def nav_sections():
    # Every page asks: a plain query (features/cards.py), in the sections' own order.
    rows = plain_rows(Section, ("name", "slug"), order_by=Section._meta.ordering)
    return [NavLink(name, reverse_slug("features:section", slug)) for name, slug in rows]
