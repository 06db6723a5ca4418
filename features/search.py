"""Search of live features: PostgreSQL full-text search where we have it, words elsewhere."""

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import F, Q

MAX_WORDS = 12


def search(features, query):
    """
    ``features`` that match ``query``, best first: the newest matches, at most
    ``NEWSROOM["SEARCH_MATCHES"]`` of them, ranked. A word found in most of a large archive
    would otherwise mean ranking (and counting) every feature on every search.
    """
    limit = settings.NEWSROOM["SEARCH_MATCHES"]
    if connection.vendor == "postgresql":
        # Ranked by the weighted vector the database keeps (title, then standfirst, then
        # body), with the GIN index behind it; websearch syntax takes "quotes" and -minus.
        terms = SearchQuery(query, config="english", search_type="websearch")
        newest = features.filter(search_vector=terms).order_by("-publish_at", "-pk")
        return (
            features.filter(pk__in=newest.values("pk")[:limit])
            .annotate(rank=SearchRank(F("search_vector"), terms))
            .order_by("-rank", "-publish_at", "-pk")
        )
    matches = Q()
    for word in query.split()[:MAX_WORDS]:
        matches &= (
            Q(title__icontains=word) | Q(standfirst__icontains=word) | Q(body_text__icontains=word)
        )
    newest = features.filter(matches).order_by("-publish_at", "-pk")
    return features.filter(pk__in=newest.values("pk")[:limit])
