"""Search of live features: PostgreSQL full-text search where we have it, words elsewhere."""

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import F, Q

MAX_WORDS = 12


def search(features, query):
    """``features`` that match ``query``, best first."""
    if connection.vendor == "postgresql":
        # Ranked by the weighted vector the database keeps (title, then standfirst, then
        # body), with the GIN index behind it; websearch syntax takes "quotes" and -minus.
        terms = SearchQuery(query, config="english", search_type="websearch")
        return (
            features.filter(search_vector=terms)
            .annotate(rank=SearchRank(F("search_vector"), terms))
            .order_by("-rank", "-publish_at", "-pk")
        )
    matches = Q()
    for word in query.split()[:MAX_WORDS]:
        matches &= (
            Q(title__icontains=word) | Q(standfirst__icontains=word) | Q(body_text__icontains=word)
        )
    return features.filter(matches)
