"""Import an old site's RSS or Atom feed as draft features. Safe to run again."""

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import mktime_tz, parsedate_tz
from http.client import HTTPException
from pathlib import Path
from urllib.error import URLError
from urllib.parse import urlsplit
from urllib.request import Request, urlopen
from xml.sax import SAXParseException

import feedparser
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.html import linebreaks
from django.utils.text import slugify

from features.models import Author, Byline, Feature, Section, Status
from features.sanitise import absolutise_urls, html_to_text

HTML_TYPES = {"text/html", "application/xhtml+xml"}
DATE_KEYS = ("published", "updated")
# feedparser knows only North American zone names and reads any other as UTC;
# an old British or European site may well have written one of these.
EXTRA_ZONES = {
    "BST": "+0100", "CET": "+0100", "CEST": "+0200", "WET": "+0000", "WEST": "+0100",
    "EET": "+0200", "EEST": "+0300",
}  # fmt: skip
_WHITESPACE = re.compile(r"\s+")


@dataclass
class Item:
    source_id: str
    title: str
    standfirst: str
    body: str
    publish_at: datetime | None
    authors: list[str]
    tags: list[str]


class Command(BaseCommand):
    help = (
        "Import the items of an RSS 2.0, RSS 1.0 or Atom feed (a file or an http(s) address) "
        "as draft features. Items imported before are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", help="A feed file, or the feed's http or https address.")
        parser.add_argument(
            "--section", help="Slug of the section to put the features in; default the first."
        )

    def handle(self, *args, **options):
        source = options["source"]
        section = find_section(options["section"])
        feed = parse(source)
        items = [
            self.read_item(feed, entry, number) for number, entry in enumerate(feed.entries, 1)
        ]
        imported = skipped = 0
        with transaction.atomic():
            seen = set(
                Feature.objects.filter(source_id__in=[item.source_id for item in items])
                .values_list("source_id", flat=True)
            )  # fmt: skip
            authors = AuthorFinder()
            for item in items:
                if item.source_id in seen:
                    skipped += 1
                    continue
                seen.add(item.source_id)
                feature = create_feature(item, section, authors)
                imported += 1
                if options["verbosity"] > 1:
                    self.stdout.write(f"Imported “{feature.title}” as {feature.slug}")
        self.stdout.write(
            f"Imported {imported} feature{'' if imported == 1 else 's'}, "
            f"skipped {skipped} already imported."
        )

    def read_item(self, feed, entry, number):
        """Everything a feature needs from one entry, checked before anything is written."""
        is_atom = (feed.get("version") or "").startswith("atom")
        title = shorten(text_of(entry.get("title_detail"), is_atom), 200)
        if not title:
            where = entry.get("id") or entry.get("link")
            raise CommandError(
                f"Item {number}{f' ({where})' if where else ''} has no title. Nothing was imported."
            )
        publish_at = entry_date(entry)
        written = [entry[key] for key in DATE_KEYS if key in entry]
        if publish_at is None and written:
            self.stderr.write(
                f"Item {number} “{title}”: could not read the date “{written[0]}”; "
                "its publish at is left empty."
            )
        summary = entry.get("summary_detail")
        standfirst = text_of(summary, is_atom)
        # Links and images in the old site's text must keep pointing at the old site.
        body = absolutise_urls(body_of(entry), entry.get("link") or feed.feed.get("link") or "")
        authors = names([author.get("name") for author in entry.get("authors") or []])
        if not authors and is_atom:
            # An Atom entry without authors has its feed's (RFC 4287, 4.2.1).
            authors = names([author.get("name") for author in feed.feed.get("authors") or []])
        return Item(
            source_id=source_id(entry, title, publish_at, feed_key(feed)),
            title=title,
            standfirst=shorten(standfirst or html_to_text(body), 600),
            body=body,
            publish_at=publish_at,
            authors=authors,
            tags=names([(tag.get("label") or tag.get("term")) for tag in entry.get("tags") or []]),
        )


def find_section(slug):
    if slug:
        try:
            return Section.objects.get(slug=slug)
        except Section.DoesNotExist:
            raise CommandError(f"There is no section with the slug “{slug}”.") from None
    section = Section.objects.order_by("position", "name").first()
    if section is None:
        raise CommandError("There are no sections: add one in the admin, then import.")
    return section


def parse(source):
    """The parsed feed, or a CommandError that says what is wrong with it."""
    data, headers = read(source)
    # The body is cleaned once, by Feature.save(), with the rules the whole site uses.
    feed = feedparser.parse(data, response_headers=headers, sanitize_html=False)
    error = feed.get("bozo_exception")
    if isinstance(error, SAXParseException):
        # feedparser's lenient second try can still return items, but from a broken
        # document they may be cut short or run together: better to import none.
        raise CommandError(
            f"{source} is not well-formed XML (line {error.getLineNumber()}, "
            f"column {error.getColumnNumber()}: {error.getMessage()}). Nothing was imported."
        )
    if not feed.get("version") and not feed.entries:
        raise CommandError(f"{source} is not an RSS or Atom feed. Nothing was imported.")
    return feed


def read(source):
    """The feed's bytes (feedparser works out their encoding) and any HTTP headers."""
    if urlsplit(source).scheme in {"http", "https"}:
        request = Request(source, headers={"User-Agent": "Newsroom feed importer"})  # noqa: S310
        try:
            with urlopen(request, timeout=30) as response:  # noqa: S310 (scheme checked above)
                headers = {name.lower(): value for name, value in response.headers.items()}
                # Relative links in the items are resolved against the feed's address.
                headers["content-location"] = response.url
                return response.read(), headers
        except (URLError, OSError, HTTPException, ValueError) as error:
            raise CommandError(f"Could not fetch {source}: {error}") from None
    try:
        return Path(source).read_bytes(), {}
    except FileNotFoundError:
        raise CommandError(f"There is no file {source}.") from None
    except OSError as error:
        raise CommandError(f"Could not read {source}: {error.strerror}.") from None


def text_of(detail, is_atom):
    """Plain text of a title or summary: only Atom says for sure that text is not HTML."""
    if not detail or not detail.get("value"):
        return ""
    if is_atom and detail.get("type") == "text/plain":
        return _WHITESPACE.sub(" ", detail["value"]).strip()
    return html_to_text(detail["value"])


def body_of(entry):
    """The full content if the feed has it, else the summary, as HTML."""
    contents = entry.get("content") or []
    chosen = next((c for c in contents if c.get("type") in HTML_TYPES), None)
    chosen = chosen or (contents[0] if contents else entry.get("summary_detail"))
    if not chosen or not chosen.get("value"):
        return ""
    if chosen.get("type") in HTML_TYPES:
        return chosen["value"]
    return linebreaks(chosen["value"], autoescape=True)


def entry_date(entry):
    """When the item was published (else updated), as an aware UTC datetime, or None."""
    for key in DATE_KEYS:
        # `in`, not get(): feedparser's get("updated") warns and falls back to "published".
        if key not in entry:
            continue
        words = (entry[key] or "").split()
        if len(words) > 1 and words[-1].upper() in EXTRA_ZONES:
            parts = parsedate_tz(" ".join([*words[:-1], EXTRA_ZONES[words[-1].upper()]]))
            if parts:
                return datetime.fromtimestamp(mktime_tz(parts), UTC)
        parsed = entry.get(f"{key}_parsed")
        if parsed:
            # feedparser gives every date as a UTC struct_time.
            return datetime(*parsed[:6], tzinfo=UTC)
    return None


def source_id(entry, title, publish_at, feed_key=""):
    """
    The item's own id, else its link, else a hash of its title and date. An id that is not
    an address ("1", "post-7") is only unique within its feed, so the feed's own is added.
    """
    value = (entry.get("id") or entry.get("link") or "").strip()
    if value and ":" not in value and feed_key:
        value = f"{feed_key}#{value}"
    if not value:
        stamp = publish_at.isoformat() if publish_at else ""
        value = "sha256:" + hashlib.sha256(f"{title}\n{stamp}".encode()).hexdigest()
    elif len(value) > Feature._meta.get_field("source_id").max_length:
        value = "sha256:" + hashlib.sha256(value.encode()).hexdigest()
    return value


def feed_key(feed):
    """The feed's own id or address, to qualify item ids that are not addresses."""
    return (feed.feed.get("id") or feed.feed.get("link") or "").strip()


def names(values):
    """Author or tag names, tidied, without blanks or repeats, in their order."""
    result, seen = [], set()
    for value in values:
        name = _WHITESPACE.sub(" ", value or "").strip()[:100]
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            result.append(name)
    return result


def shorten(text, limit):
    """Text of at most `limit` characters, cut at a word with an ellipsis if it was longer."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    cut = cut.rsplit(" ", 1)[0] if " " in cut else cut[: limit - 1]
    return cut.rstrip(" ,;:.-–—") + "…"


def unique_slug(model, text, max_length, fallback):
    base = slugify(text)[:max_length].strip("-") or fallback
    slug, number = base, 1
    while model.objects.filter(slug=slug).exists():
        number += 1
        suffix = f"-{number}"
        slug = base[: max_length - len(suffix)].rstrip("-") + suffix
    return slug


class AuthorFinder:
    """Authors by name, ignoring case and spacing; new names become new authors."""

    def __init__(self):
        self.by_name = {}
        for author in Author.objects.order_by("pk"):
            self.by_name.setdefault(self.key(author.name), author)

    @staticmethod
    def key(name):
        return _WHITESPACE.sub(" ", name).strip().casefold()

    def get(self, name):
        key = self.key(name)
        if key not in self.by_name:
            self.by_name[key] = Author.objects.create(
                name=name, slug=unique_slug(Author, name, 150, "author")
            )
        return self.by_name[key]


def create_feature(item, section, authors):
    feature = Feature.objects.create(
        title=item.title,
        slug=unique_slug(Feature, item.title, 200, "imported-feature"),
        standfirst=item.standfirst,
        body=item.body,
        section=section,
        status=Status.DRAFT,
        publish_at=item.publish_at,
        source_id=item.source_id,
    )
    for position, name in enumerate(item.authors):
        Byline.objects.create(feature=feature, author=authors.get(name), position=position)
    if item.tags:
        feature.tags.add(*item.tags)
    return feature
