"""Search of live features: PostgreSQL full-text search where we have it, words elsewhere."""

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import F, Q

from .cards import as_cards
from .models import Feature

MAX_WORDS = 12


def search(features, query):
    """
    The live ``features`` that match ``query``, best first (RankedMatches: sliced, it gives
    a page of Cards): the newest matches, at most ``NEWSROOM["SEARCH_MATCHES"]`` of them,
    ranked. A word found in most of a large archive
    would otherwise mean ranking (and counting) every feature on every search.
    """
    return RankedMatches(ranked_ids(features, query))


def ranked_ids(features, query):
    """
    The ids of the newest matches, best first, in one query: each match is ranked as the
    newest are found, and the few hundred ranks are sorted here, where ranking them in a
    second pass would read every match from the table again.
    """
    limit = settings.NEWSROOM["SEARCH_MATCHES"]
    if connection.vendor == "postgresql":
        # Ranked by the weighted vector the database keeps (title, then standfirst, then
        # body), with the GIN index behind it; websearch syntax takes "quotes" and -minus.
        terms = SearchQuery(query, config="english", search_type="websearch")
        newest = (
            features.filter(search_vector=terms)
            .annotate(rank=SearchRank(F("search_vector"), terms))
            .order_by("-publish_at", "-pk")
            .values_list("pk", "rank")[:limit]
        )
        # Newest first already: a stable sort keeps that order among equal ranks.
        return [pk for pk, _rank in sorted(newest, key=lambda row: -row[1])]
    matches = Q()
    for word in query.split()[:MAX_WORDS]:
        matches &= (
            Q(title__icontains=word) | Q(standfirst__icontains=word) | Q(body_text__icontains=word)
        )
    newest = features.filter(matches).order_by("-publish_at", "-pk")
    return list(newest.values_list("pk", flat=True)[:limit])


class RankedMatches:
    """
    Search results for a paginator: their number is known without counting, and a page is
    the cards of its features, read by id (and checked to be live still).
    """

    def __init__(self, ids):
        self.ids = ids

    def __len__(self):
        return len(self.ids)

    def count(self):
        return len(self.ids)

    def __getitem__(self, page):
        if not isinstance(page, slice):
            raise TypeError("Search results are read a page (a slice) at a time.")
        ids = self.ids[page]
        cards = {card.pk: card for card in as_cards(Feature.objects.live().filter(pk__in=ids))}
        return [cards[pk] for pk in ids if pk in cards]
