"""
Cards: what a list of features shows of each one.

Lists are the pages readers load most, so their rows are read as plain tuples rather than
model instances, and everything a card shows is worked out once, in Python, before the
template sees it: the template only places ready strings. Building twelve Feature
instances with their prefetched bylines and authors, and resolving dotted names and
filters on each in the template, cost several times the queries themselves.

``as_cards(Feature.objects.live())`` is a queryset like any other (slice it, filter it,
paginate it); iterating it yields Card objects, with the bylines of the whole batch read in
two more queries, whatever the number of features.
"""

import functools
from typing import NamedTuple

from django.db import connection
from django.db.models.query import BaseIterable, ValuesListIterable
from django.utils import timezone, translation
from django.utils.formats import date_format
from taggit.models import Tag

from .bylines import Credit, byline_role, byline_text
from .models import Author, Byline, TaggedFeature, published_date, slug_reverser

# The columns a card is made from, in the order CardIterable reads them.
COLUMNS = ("pk", "slug", "title", "standfirst", "publish_at", "first_published_at",
           "section__slug", "section__name")  # fmt: skip
BYLINE_COLUMNS = ("feature", "author", "job_title", "organisation", "role_frozen")
AUTHOR_COLUMNS = ("id", "name", "slug", "job_title", "organisation")


class Card(dict):
    """
    One feature as a list shows it, every value ready to place: ``pk``, ``slug``, ``title``,
    ``standfirst``, ``url``, ``section_name``, ``section_url``, ``publish_at`` (the archive's
    order and cursor), ``published_iso`` and ``published_text`` (the date readers are shown)
    and ``byline``. A dict (the template only reads it), whose keys read as attributes too
    (``card.title``).
    """

    __slots__ = ()

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


@functools.lru_cache(maxsize=4096)
def long_date(day, language):
    """'25 March 2009'. Lists show many features of the same few days."""
    return date_format(day, "j F Y")


def credits_of(rows, authors, author_url):
    """Credits for byline rows, as Byline.credit gives them (``author_url``: slug_reverser)."""
    for _feature, author_id, job_title, organisation, frozen in rows:
        name, slug, own_title, own_organisation = authors[author_id]
        role = byline_role((job_title, organisation), frozen, (own_title, own_organisation))
        yield Credit(name, *role, author_url(slug))


def credits_by_feature(feature_ids):
    """
    Each feature's byline credits in order, in two queries: bylines, then the authors they
    name (joined to the bylines, PostgreSQL would hash every author to find the few named).
    """
    if not feature_ids:
        return {}
    rows = plain_rows(Byline, BYLINE_COLUMNS, "feature", feature_ids, ("feature", "position", "id"))
    authors = {
        pk: rest for pk, *rest in plain_rows(Author, AUTHOR_COLUMNS, "id", {row[1] for row in rows})
    }
    by_feature = {}
    for row in rows:
        by_feature.setdefault(row[0], []).append(row)
    author_url = slug_reverser("features:author")
    return {pk: list(credits_of(group, authors, author_url)) for pk, group in by_feature.items()}


def plain_rows(model, fields, key=None, values=(), order_by=()):
    """
    SELECT ``fields`` of the rows of ``model`` whose ``key`` is one of ``values`` (every row
    without a ``key``), as tuples. For the small lookups that every page makes: the ORM's
    work of building the query costs several times what the database does, and these never
    need it. Names come from the model, quoted; values go as parameters.
    """
    if key and not values:
        return []  # "IN ()" is an error on PostgreSQL
    column = functools.partial(_column, model)
    sql = f"SELECT {', '.join(map(column, fields))} FROM {_table(model)}"  # noqa: S608
    if key:
        sql += f" WHERE {column(key)} IN ({_placeholders(values)})"
    if order_by:
        sql += f" ORDER BY {', '.join(map(column, order_by))}"
    with connection.cursor() as cursor:
        cursor.execute(sql, list(values))
        return cursor.fetchall()


def plain_get(model, fields, key, value):
    """
    The one row of ``model`` whose ``key`` is ``value``, as a model instance with ``fields``
    read (any others are read when first used), or None.
    """
    # Model.from_db() takes the values in the model's own order of fields.
    known = columns_of(model)
    if unknown := set(fields) - set(known):
        raise ValueError(f"{model.__name__} has no column named {', '.join(sorted(unknown))}")
    fields = [name for name in known if name in fields]
    rows = plain_rows(model, fields, key, [value])
    if len(rows) > 1:
        raise model.MultipleObjectsReturned(f"{len(rows)} rows have {key} {value!r}")
    return model.from_db(connection.alias, fields, rows[0]) if rows else None


def columns_of(model, leave_out=()):
    """The model's columns (attribute names), in the order Model.from_db() takes them."""
    return [field.attname for field in model._meta.concrete_fields if field.name not in leave_out]


@functools.cache
def _column(model, field):
    return connection.ops.quote_name(model._meta.get_field(field).column)


def _table(model):
    return connection.ops.quote_name(model._meta.db_table)


def _placeholders(values):
    return ", ".join(["%s"] * len(values))


class TagLink(NamedTuple):
    """A tag as a page or feed names it."""

    name: str
    slug: str


def tags_by_feature(feature_ids):
    """Each feature's tags, in name order, as TagLinks."""
    if not feature_ids:
        return {}
    feature, tag = _column(TaggedFeature, "content_object"), _column(TaggedFeature, "tag")
    pk, name, slug = (_column(Tag, field) for field in ("id", "name", "slug"))
    # As plain_rows(), with the tags joined.
    sql = (
        f"SELECT t.{feature}, g.{name}, g.{slug} FROM {_table(TaggedFeature)} t"  # noqa: S608
        f" INNER JOIN {_table(Tag)} g ON g.{pk} = t.{tag}"
        f" WHERE t.{feature} IN ({_placeholders(feature_ids)})"
    )
    tags = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, list(feature_ids))
        for feature_id, tag_name, tag_slug in cursor.fetchall():
            tags.setdefault(feature_id, []).append(TagLink(tag_name, tag_slug))
    # In name order, the same on every database (SQLite would put capitals first).
    for feature_tags in tags.values():
        feature_tags.sort(key=lambda tag: (tag.name.casefold(), tag.name))
    return tags


def attach_parts(features):
    """Give each feature its byline credits and tags (Feature.attach_parts()), in 3 queries."""
    ids = [feature.pk for feature in features]
    credits, tags = credits_by_feature(ids), tags_by_feature(ids)
    for feature in features:
        feature.attach_parts(credits.get(feature.pk, []), tags.get(feature.pk, []))
    return features


class CardIterable(BaseIterable):
    """Yields a Card for each row of an as_cards() queryset."""

    def __iter__(self):
        rows = list(ValuesListIterable(self.queryset, self.chunked_fetch, self.chunk_size))
        yield from cards_of(rows)


def cards_of(rows):
    """Cards for rows of COLUMNS, their bylines read in two queries."""
    credits = credits_by_feature([row[0] for row in rows])
    tz, language = timezone.get_current_timezone(), translation.get_language()
    feature_url = slug_reverser("features:detail")
    section_url = slug_reverser("features:section")
    for pk, slug, title, standfirst, publish_at, first_published_at, s_slug, s_name in rows:
        published = published_date(first_published_at, publish_at)
        published = timezone.localtime(published, tz).date()
        yield Card(
            pk=pk, slug=slug, title=title, standfirst=standfirst,
            url=feature_url(slug), section_name=s_name, section_url=section_url(s_slug),
            publish_at=publish_at,
            published_iso=published.isoformat(),
            published_text=long_date(published, language),
            byline=byline_text(credits.get(pk, ())),
        )  # fmt: skip


def as_cards(features):
    """The queryset of features, yielding Cards."""
    cards = features.values_list(*COLUMNS)
    cards._iterable_class = CardIterable
    return cards
