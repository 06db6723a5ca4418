"""Search of live features: PostgreSQL full-text search where we have it, words elsewhere."""

from django.conf import settings
from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from .cards import COLUMNS, cards_of
from .models import Feature
from .statements import Statement

MAX_WORDS = 12
# The text search configuration, as the search vector is made with it (migration 0010).
CONFIG = "english"


def search(query):
    """
    The live features that match ``query``, best first (RankedMatches: sliced, it gives a
    page of Cards): the newest matches, at most ``NEWSROOM["SEARCH_MATCHES"]`` of them,
    ranked. A word found in most of a large archive would otherwise mean ranking (and
    counting) every feature on every search.
    """
    return RankedMatches(ranked_ids(query))


def newest_matches(now, query):
    """The newest live matches, with what ranks them (PostgreSQL)."""
    terms = SearchQuery(query, config=CONFIG, search_type="websearch")
    matches = Feature.objects.live(now=now).filter(search_vector=terms)
    newest = matches.order_by("-publish_at", "-pk")
    limit = settings.NEWSROOM["SEARCH_MATCHES"]
    return newest.values_list("pk", "publish_at", "search_vector")[:limit]


NEWEST_MATCHES = Statement(newest_matches)


def ranked_ids(query):
    """
    The ids of the newest matches, best first, in one query: the newest matches are found,
    and only they are ranked, each read from the table once.
    """
    if connection.vendor == "postgresql":
        # Ranked by the weighted vector the database keeps (title, then standfirst, then
        # body), with the GIN index behind it; websearch syntax takes "quotes" and -minus.
        sql, params = NEWEST_MATCHES.sql_with_params(timezone.now(), query)
        # Ranked outside the limit (the ORM has no subquery in FROM): ranked beside it, a
        # word in thousands of features would have every match ranked before the newest
        # were kept; ranked after a second lookup, each match was read from the table twice.
        ranked = (
            f"SELECT newest.pk FROM ({sql}) AS newest ORDER BY"  # noqa: S608 - the ORM's SQL
            " ts_rank(newest.search_vector, websearch_to_tsquery(%s::regconfig, %s)) DESC,"
            " newest.publish_at DESC, newest.pk DESC"
        )
        # Sent with its values written in: planned for this word, never prepared as one plan
        # for every word (a generic plan would read every match of a common one).
        ranked = connection.ops.compose_sql(ranked, [*params, CONFIG, query])
        with connection.cursor() as cursor:
            cursor.execute(ranked)
            return [pk for (pk,) in cursor.fetchall()]
    matches = Q()
    for word in query.split()[:MAX_WORDS]:
        matches &= (
            Q(title__icontains=word) | Q(standfirst__icontains=word) | Q(body_text__icontains=word)
        )
    newest = Feature.objects.live().filter(matches).order_by("-publish_at", "-pk")
    return list(newest.values_list("pk", flat=True)[: settings.NEWSROOM["SEARCH_MATCHES"]])


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
        if not ids:
            return []
        cards = {card.pk: card for card in cards_of(PAGE_ROWS.rows(timezone.now(), ids))}
        return [cards[pk] for pk in ids if pk in cards]


def page_rows(now, ids):
    """The cards' rows of a page of results: the features it names that are live still."""
    return Feature.objects.live(now=now).filter(pk__in=ids).values_list(*COLUMNS)


PAGE_ROWS = Statement(page_rows)
