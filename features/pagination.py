"""
Pages of a newest-first list that cost the same however long the archive grows.

No page ever counts the whole list: fetching one row more than a page tells whether there
is an older page. "Older" links carry a cursor (the publication time and id of the last
item shown), so the database seeks straight to it through the index instead of skipping
rows: page 5,000 costs what page 2 does. Numbered pages (?page=3, ?page=last) still work.
"""

import re
from datetime import UTC, datetime

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from .statements import Statement

MAX_PAGE = 1_000_000
CURSOR = re.compile(r"^(\d{1,20})-(\d{1,18})$")


def cursor_of(feature):
    micros = int(feature.publish_at.timestamp() * 1_000_000)
    return f"{micros}-{feature.pk}"


def parse_cursor(value):
    match = CURSOR.match(value or "")
    if not match:
        raise Http404("That is not a page of this list.")
    try:
        moment = datetime.fromtimestamp(int(match.group(1)) / 1_000_000, tz=UTC)
    except (OverflowError, OSError, ValueError) as error:
        raise Http404("That is not a page of this list.") from error
    return moment, int(match.group(2))


class ListPage(Page):
    """A page that knows its neighbours' addresses, as query strings."""

    def __init__(self, object_list, number, paginator, older, newer_query):
        super().__init__(object_list, number, paginator)
        self.older = older
        self.newer_query = newer_query

    @property
    def older_query(self):
        return f"before={cursor_of(self.object_list[-1])}" if self.older else ""

    def has_next(self):
        return self.older

    def has_previous(self):
        return bool(self.newer_query)

    def has_other_pages(self):
        return self.has_next() or self.has_previous()


class ArchivePaginator(Paginator):
    """Numbered pages without a count; ``?page=last`` is the one request that counts."""

    # The columns the list is ordered by, newest first, which the cursor bounds.
    time_field = "publish_at"
    id_field = "pk"
    # The list's first page and the pages before a cursor, read by compiled statements
    # (a Listing's, bound by the view), or by the ORM from object_list where there is none.
    listing = None

    def validate_number(self, number):
        if number == "last":
            return super().validate_number(number)
        try:
            number = int(number)
        except (TypeError, ValueError) as error:
            raise PageNotAnInteger("That page number is not a whole number.") from error
        if number < 1:
            raise EmptyPage("That page number is less than 1.")
        if number > MAX_PAGE:
            # Far past any archive, and an OFFSET the database would refuse.
            raise EmptyPage("That page contains no results.")
        return number

    def page(self, number):
        number = self.validate_number(number)
        if number == 1 and self.listing:
            rows = self.listing.first(self)
        else:
            bottom = (number - 1) * self.per_page
            rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage("That page contains no results.")
        newer = f"page={number - 1}" if number > 1 else ""
        return ListPage(rows[: self.per_page], number, self, len(rows) > self.per_page, newer)

    def page_before(self, cursor):
        """The page of items older than the cursor."""
        moment, pk = parse_cursor(cursor)
        if self.listing:
            rows = self.listing.before(self, moment, pk)
        else:
            rows = list(self.older(self.object_list, moment, pk)[: self.per_page + 1])
        if not rows:
            raise Http404("There is nothing older.")
        first = rows[0]
        return ListPage(
            rows[: self.per_page], None, self, len(rows) > self.per_page,
            f"after={cursor_of(first)}",
        )  # fmt: skip

    @classmethod
    def older(cls, items, moment, pk):
        """The items older than the cursor's moment and id."""
        # The plain bound is what the index seeks to; the OR settles ties on the same moment.
        time, id_ = cls.time_field, cls.id_field
        return items.filter(**{f"{time}__lte": moment}).filter(
            Q(**{f"{time}__lt": moment}) | Q(**{time: moment, f"{id_}__lt": pk})
        )

    def page_after(self, cursor):
        """The page of items newer than the cursor (reading back towards the first page)."""
        moment, pk = parse_cursor(cursor)
        time, id_ = self.time_field, self.id_field
        newer = self.object_list.filter(**{f"{time}__gte": moment}).filter(
            Q(**{f"{time}__gt": moment}) | Q(**{time: moment, f"{id_}__gt": pk})
        )
        rows = list(newer.reverse()[: self.per_page + 1])[::-1]
        if not rows:
            raise Http404("There is nothing newer.")
        more = len(rows) > self.per_page
        rows = rows[-self.per_page :]
        return ListPage(rows, None, self, True, f"after={cursor_of(rows[0])}" if more else "")


class TagPaginator(ArchivePaginator):
    """A tag's list, ordered by its taggings' copy of each feature's time (TaggedFeature)."""

    time_field = "tagging_publish_at"
    id_field = "tagging_feature"


class BuiltWhenNeeded:
    """
    A queryset built when first used: ``build()`` makes it. A list's first page and the
    pages before a cursor come from its Listing's statements, and building the queryset for
    them would cost more than they do (a tag's list, 1.4 ms); numbered pages beyond the first
    and the pages after a cursor use it.
    """

    ordered = True  # as the Paginator asks: the lists are always in their order

    def __init__(self, model, build):
        self.model, self._build, self._queryset = model, build, None

    def queryset(self):
        if self._queryset is None:
            self._queryset = self._build()
        return self._queryset

    def __getattr__(self, name):
        return getattr(self.queryset(), name)

    def __getitem__(self, key):
        return self.queryset()[key]

    def __iter__(self):
        return iter(self.queryset())

    def __len__(self):
        return len(self.queryset())


class Listing:
    """
    A list read by statements compiled once (features/statements.py), for its most read
    pages: the first, and the page before a cursor. ``build(now, *scope)`` gives the list
    (live items, newest first; ``scope``: the ids that pick it out, a section's say),
    ``columns`` what each row reads of an item, and ``items(rows)`` what a page shows.
    """

    def __init__(self, build, columns, items):
        self.build, self.columns, self.items = build, columns, items
        self.statements = {}

    def bind(self, *scope):
        """The list of one scope, for a paginator's ``listing``."""
        return BoundListing(self, scope)

    def rows(self, now, *scope):
        return self.build(now, *scope).values_list(*self.columns)

    def statement(self, kind, paginator):
        paginator_class, size = type(paginator), paginator.per_page + 1  # one more: is there more?
        key = (kind, paginator_class, size)
        statement = self.statements.get(key)
        if statement is None:
            if kind == "first":
                statement = Statement(lambda now, *scope: self.rows(now, *scope)[:size])
            else:
                statement = Statement(
                    lambda now, moment, pk, *scope: paginator_class.older(
                        self.rows(now, *scope), moment, pk
                    )[:size]
                )
            self.statements[key] = statement
        return statement


class BoundListing:
    def __init__(self, listing, scope):
        self.listing, self.scope = listing, scope

    def first(self, paginator):
        rows = self.listing.statement("first", paginator).rows(timezone.now(), *self.scope)
        return self.listing.items(rows)

    def before(self, paginator, moment, pk):
        statement = self.listing.statement("before", paginator)
        return self.listing.items(statement.rows(timezone.now(), moment, pk, *self.scope))
