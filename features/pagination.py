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
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage("That page contains no results.")
        newer = f"page={number - 1}" if number > 1 else ""
        return ListPage(rows[: self.per_page], number, self, len(rows) > self.per_page, newer)

    def page_before(self, cursor):
        """The page of items older than the cursor."""
        moment, pk = parse_cursor(cursor)
        # The plain bound is what the index seeks to; the OR settles ties on the same moment.
        time, id_ = self.time_field, self.id_field
        older = self.object_list.filter(**{f"{time}__lte": moment}).filter(
            Q(**{f"{time}__lt": moment}) | Q(**{time: moment, f"{id_}__lt": pk})
        )
        rows = list(older[: self.per_page + 1])
        if not rows:
            raise Http404("There is nothing older.")
        first = rows[0]
        return ListPage(
            rows[: self.per_page], None, self, len(rows) > self.per_page,
            f"after={cursor_of(first)}",
        )  # fmt: skip

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
