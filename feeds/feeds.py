import copy
import hashlib
import inspect

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import (
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
)
from django.utils.feedgenerator import Enclosure, Stylesheet
from django.utils.html import escape
from django.utils.http import http_date, quote_etag
from taggit.models import Tag

from features.cards import Card, credits_by_feature, tags_by_feature
from features.models import (
    Author,
    Download,
    Feature,
    Section,
    Status,
    live_tags,
    published_date,
    slug_reverser,
)
from features.sanitise import absolute_addresses
from features.statements import Statement

from .generators import NewsroomAtomFeed, NewsroomRssFeed
from .models import ScopeChange

# Goes up whenever what the feeds write changes, so every poller fetches the new form once.
FEED_FORMAT = 3


# What a feed item is made from, in the order FeatureFeed.items() reads it.
ENTRY_COLUMNS = ("pk", "slug", "title", "standfirst", "body", "publish_at", "first_published_at",
                 "last_major_update_at", "hero_image", "hero_image_bytes", "hero_image_type",
                 "hero_image_width", "hero_image_height", "hero_image_alt",
                 "hero_image_credit")  # fmt: skip


def hero_image_url(name):
    """A hero image's address from its stored name, as the image field gives it."""
    return Feature._meta.get_field("hero_image").storage.url(name)


class Entry(Card):
    """
    One feature as a feed item: the values of ENTRY_COLUMNS, its ``url``, and its byline
    ``credits`` and ``tags``, read as attributes.
    """

    __slots__ = ()


def changes(rows):
    """
    Each item as the ETag names it, (pk, when it last changed), from (pk, updated_at,
    publish_at) rows: an item edited before it went live changed when it went live.
    """
    return [(pk, max(updated, published)) for pk, updated, published in rows]


_MISSING = object()
_ARGUMENT_COUNTS = {}  # (feed class, method name): its number of arguments, self included
_STATEMENTS = {}  # (feed class, query name): its Statement


def tag_uri(kind, pk):
    """An id that never changes with a title or slug: tag:<authority>,2009:<kind>:<pk>."""
    return f"tag:{settings.NEWSROOM['FEED_ID_AUTHORITY']},2009:{kind}:{pk}"


class NewsroomFeed(Feed):
    """
    What every feed shares: only live items, newest first, a fixed limit, a browser
    stylesheet, and cheap polling: ETag and Last-Modified come from the feed's own
    items, and a conditional request is answered 304 before the feed is built.
    """

    feed_type = NewsroomRssFeed
    language = "en-gb"

    @property
    def limit(self):
        return settings.NEWSROOM["FEED_ITEMS"]

    def __call__(self, request, *args, **kwargs):
        feed = copy.copy(self)  # one instance serves every request: keep the request apart
        feed.request = request
        feed.now = timezone.now()  # one moment for the poll, the items and the max-age
        try:
            obj = feed.get_object(request, *args, **kwargs)
        except ObjectDoesNotExist as error:
            raise Http404("No such feed.") from error
        # A request that cannot be answered 304 has its items read by the poll itself.
        conditional = "If-None-Match" in request.headers or "If-Modified-Since" in request.headers
        items, left_at, next_change = feed.poll_state(obj, with_items=not conditional)
        changes = [changed for _pk, changed in items] + ([left_at] if left_at else [])
        last_modified = max(changes, default=None)
        # A person opening the feed in a browser gets it as plain XML, so the browser
        # applies the stylesheet; feed readers get the feed's own media type.
        for_browser = "text/html" in request.headers.get("Accept", "")
        etag = quote_etag(feed.etag(obj, items) + ("-page" if for_browser else ""))
        response = get_conditional_response(
            request,
            etag=etag,
            last_modified=last_modified and int(last_modified.timestamp()),
        )
        if response is None:
            generator = feed.get_feed(obj, request)
            content_type = generator.content_type
            if for_browser:
                content_type = "application/xml; charset=utf-8"
            response = HttpResponse(generator.writeString("utf-8"), content_type=content_type)
        response["ETag"] = etag
        patch_vary_headers(response, ["Accept"])
        if last_modified:
            response["Last-Modified"] = http_date(last_modified.timestamp())
        patch_cache_control(response, public=True, max_age=feed.max_age(next_change))
        return response

    def _get_dynamic_attr(self, attname, obj, default=None):
        # The syndication framework asks Python how many arguments a method takes each time
        # it calls it (some twenty times for each item); the answer is kept here for each
        # class and name. Anything unusual (a method without arguments) is left to it.
        attr = getattr(self, attname, _MISSING)
        if attr is _MISSING:
            return default
        if not callable(attr):
            return attr
        key = (type(self), attname)
        count = _ARGUMENT_COUNTS.get(key)
        if count is None:
            func = inspect.unwrap(attr)
            code = getattr(func, "__code__", None) or inspect.unwrap(attr.__call__).__code__
            count = _ARGUMENT_COUNTS[key] = code.co_argcount
        if count == 2:  # self, and the object
            return attr(obj)
        if count == 1:
            return attr()
        return super()._get_dynamic_attr(attname, obj, default)

    # Polling. Every feed's queries have one shape whatever its object, so each is compiled
    # once for each feed class (features/statements.py), and run with the time now and the
    # object's id.

    via = ""  # "tagging_": a tag's feed, which reads its taggings' copy (Feature.tagged())
    object_model = None  # what the feed is of (a section, a tag, an author), if anything
    entry_columns = None  # what items() reads of each item, in the poll where it can

    def scope(self, obj):
        """Every row this feed could ever show, whatever its status."""
        raise NotImplementedError

    def scope_key(self, obj):
        """The feed's ScopeChange key, if it has one."""
        return None

    def poll_state(self, obj, with_items=False):
        """
        The items the feed shows, with when each last changed; when an item last left it
        (or the scope itself last changed), and when the next scheduled one arrives: two
        queries, each of index seeks.
        ``with_items``: the feed will be written, and the first query reads the columns
        items() needs as well (``self.entry_rows``).
        """
        values = self.values(obj)
        if with_items and self.entry_columns:
            self.entry_rows = self.statement("entries").rows(*values)
            published = self.entry_columns.index("publish_at")
            items = changes((row[0], row[-1], row[published]) for row in self.entry_rows)
        else:
            items = changes(self.statement("poll").rows(*values))
        if obj is not None:
            values += (self.scope_key(obj),)
        left, upcoming, *moved = self.statement("comings_and_goings").row(*values)
        return items, max(filter(None, [left, *moved]), default=None), upcoming

    entry_rows = None

    def values(self, obj):
        """What the feed's statements are run with: the request's time, and its object's id."""
        return (self.now,) if obj is None else (self.now, obj.pk)

    def statement(self, name):
        """This feed class's Statement for ``<name>_query()``."""
        key = (type(self), name)
        statement = _STATEMENTS.get(key)
        if statement is None:
            statement = _STATEMENTS[key] = Statement(self.builder(name))
        return statement

    @classmethod
    def builder(cls, name):
        def build(now, pk=None, key=None):
            feed = cls()  # the request's copy is not kept
            obj = None if pk is None else cls.object_model(pk=pk)
            return getattr(feed, f"{name}_query")(obj, now, key)

        return build

    def live_rows(self, obj, now):
        return self.scope(obj).newest_live(via=self.via, now=now)

    def entries_query(self, obj, now, key):
        rows = self.live_rows(obj, now).values_list(*self.entry_columns, "updated_at")
        return rows[: self.limit]

    def poll_query(self, obj, now, key):
        return self.live_rows(obj, now).values_list("pk", "updated_at", "publish_at")[: self.limit]

    def comings_and_goings_query(self, obj, now, key):
        """When an item last left, and when the next arrives: seeks, asked together."""
        via, scope = self.via, self.scope(obj)
        left = (
            scope.filter(**{f"{via}left_public_at__isnull": False})
            .order_by(f"-{via}left_public_at")
            .values_list("left_public_at")[:1]  # the same as the tagging's copy
        )
        upcoming = (
            scope.filter(**{f"{via}status": Status.PUBLISHED, f"{via}publish_at__gt": now})
            .order_by(f"{via}publish_at")
            .values_list("publish_at")[:1]
        )
        key = key or self.scope_key(obj)
        if not key:
            return left, upcoming
        moved = ScopeChange.objects.filter(key=key).values_list("changed_at")[:1]
        return left, upcoming, moved

    def etag(self, obj, items):
        identity = (obj and obj.pk, str(obj), getattr(obj, "slug", ""))
        key = repr(
            (FEED_FORMAT, type(self).__name__, self.feed_type.__name__, identity, items, self.limit)
        )
        return hashlib.sha256(key.encode()).hexdigest()[:32]

    def max_age(self, next_change):
        """Short, and never past the moment the next scheduled item goes live."""
        max_age = settings.NEWSROOM["FEED_MAX_AGE"]
        if next_change:
            max_age = min(max_age, max(0, int((next_change - self.now).total_seconds())))
        return max_age

    # Channel.

    def feed_url(self, obj):
        return self.request.path

    def stylesheets(self):
        return [Stylesheet(static("feeds/feed.css"), mimetype="text/css")]

    def author_name(self):
        return settings.NEWSROOM["PUBLISHER"]

    def feed_copyright(self):
        return f"© {settings.NEWSROOM['PUBLISHER']}"

    def absolute(self, url):
        return self.request.build_absolute_uri(url)


class FeatureFeed(NewsroomFeed):
    """Live features; subclasses narrow them to a section, a tag or an author."""

    kind = "latest"  # part of the feed's permanent id: never change it
    entry_columns = ENTRY_COLUMNS

    def title(self, obj):
        return f"{settings.NEWSROOM['SITE_NAME']} — {self.heading(obj)}"

    def heading(self, obj):
        return "Latest features"

    def description(self, obj):
        return f"{self.heading(obj)} from {settings.NEWSROOM['SITE_NAME']}."

    def subtitle(self, obj):
        return self.description(obj)

    def link(self, obj):
        return obj.get_absolute_url() if obj else reverse("features:list")

    def feed_guid(self, obj):
        return tag_uri(f"feed:{self.kind}", obj.pk if obj else "all")

    def scope(self, obj):
        """Every feature this feed could ever show, whatever its status."""
        return Feature.objects.all()

    def scope_key(self, obj):
        return obj and f"{self.kind}:{obj.pk}"

    def items(self, obj):
        """
        The newest live features as Entry dicts. Read as plain values, with their bylines
        and tags as plain rows (features/cards.py): a feed's twenty model instances, with
        their bylines and tags prefetched, cost more than the rest of the feed together.
        """
        if self.entry_rows is None:
            self.entry_rows = self.statement("entries").rows(*self.values(obj))
        rows = [row[: len(ENTRY_COLUMNS)] for row in self.entry_rows]
        ids = [row[0] for row in rows]
        credits, tags = credits_by_feature(ids), tags_by_feature(ids)
        feature_url = slug_reverser("features:detail")
        return [
            Entry(zip(ENTRY_COLUMNS, row, strict=True), url=feature_url(row[1]),
                  credits=credits.get(row[0], []), tags=tags.get(row[0], []))
            for row in rows
        ]  # fmt: skip

    def item_title(self, item):
        return item.title

    def item_link(self, item):
        return item.url

    def item_description(self, item):
        # RSS readers take a description as HTML: the plain standfirst is escaped for them.
        # (Atom's summary is declared plain text, and written as it is.)
        if self.feed_type is NewsroomAtomFeed:
            return item.standfirst
        return escape(item.standfirst)

    def item_pubdate(self, item):
        return published_date(item.first_published_at, item.publish_at)

    def item_updateddate(self, item):
        return item.last_major_update_at or self.item_pubdate(item)

    def item_categories(self, item):
        return [tag.name for tag in item.tags]

    def item_guid(self, item):
        return tag_uri("feature", item.pk)

    item_guid_is_permalink = False

    def item_extra_kwargs(self, item):
        extra = {
            "authors": [(credit.name, self.absolute(credit.url)) for credit in item.credits],
            # Bodies are cleaned as they are saved: their addresses are made absolute without
            # a second cleaning.
            "content_html": absolute_addresses(item.body, self.absolute(item.url)),
        }
        if item.hero_image:
            extra["image"] = {
                "url": self.absolute(hero_image_url(item.hero_image)),
                "length": item.hero_image_bytes,
                "type": item.hero_image_type or "image/jpeg",
                "width": item.hero_image_width,
                "height": item.hero_image_height,
                "alt": item.hero_image_alt,
                "credit": item.hero_image_credit,
            }
        return extra


class LatestFeed(FeatureFeed):
    pass


class SectionFeed(FeatureFeed):
    kind = "section"
    object_model = Section

    def get_object(self, request, slug):
        return get_object_or_404(Section, slug=slug)

    def heading(self, obj):
        return obj.name

    def scope(self, obj):
        return Feature.objects.filter(section=obj)


class TagFeed(FeatureFeed):
    kind = "tag"
    object_model = Tag

    def get_object(self, request, slug):
        return get_object_or_404(live_tags(), slug=slug)

    def heading(self, obj):
        return f"Features tagged {obj.name}"

    def link(self, obj):
        return reverse("features:tag", kwargs={"slug": obj.slug})

    via = "tagging_"

    def scope(self, obj):
        return Feature.objects.tagged(obj)


class AuthorFeed(FeatureFeed):
    kind = "author"
    object_model = Author

    def get_object(self, request, slug):
        return get_object_or_404(Author.objects.with_live_features(), slug=slug)

    def heading(self, obj):
        return f"Features by {obj.name}"

    def scope(self, obj):
        return Feature.objects.filter(bylines__author=obj)


def atom(feed_class):
    """The Atom twin of an RSS feed class."""
    return type(f"{feed_class.__name__}Atom", (feed_class,), {"feed_type": NewsroomAtomFeed})


class DownloadsFeed(NewsroomFeed):
    """Live downloads, each with its file as an enclosure."""

    def title(self):
        return f"{settings.NEWSROOM['SITE_NAME']} — Downloads"

    def description(self):
        return f"Crosswords, reports and newsletters from {settings.NEWSROOM['SITE_NAME']}."

    def subtitle(self):
        return self.description()

    def link(self):
        return reverse("features:downloads")

    def feed_guid(self):
        return tag_uri("feed:downloads", "all")

    def scope(self, obj):
        return Download.objects.all()

    def scope_key(self, obj):
        return "downloads"

    def items(self):
        return Download.objects.live(now=self.now)[: self.limit]

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        text = f"{item.description} ({item.summary})" if item.description else item.summary
        return escape(text)

    def item_link(self, item):
        # The item's page is the downloads list; only the enclosure fetches the file.
        return f"{reverse('features:downloads')}#{item.slug}"

    def item_pubdate(self, item):
        return item.publish_at

    def item_updateddate(self, item):
        return max(item.publish_at, item.updated_at)

    def item_guid(self, item):
        return tag_uri("download", item.pk)

    item_guid_is_permalink = False

    def item_enclosures(self, item):
        return [
            Enclosure(
                url=self.absolute(item.get_absolute_url()),
                length=str(item.size or 0),
                mime_type=item.mime_type or "application/octet-stream",
            )
        ]

    def item_categories(self, item):
        return [item.get_category_display()]
