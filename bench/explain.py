"""
The query plans behind the public pages and feeds, on PostgreSQL: every query that each page
runs (captured as the page is served, not written out again here) with PostgreSQL's EXPLAIN
ANALYZE, as Markdown. Run it against a database seeded by seed_bulk:

    DATABASE_URL=postgres://… python bench/explain.py > plans.md
"""

import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
os.environ["NEWSROOM_CACHE"] = "dummy"  # the views' own queries, not the page cache's

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from features import caching  # noqa: E402
from features.models import Author, Feature, Section  # noqa: E402
from features.pagination import cursor_of  # noqa: E402

# Queries every page shares and that touch no feature (the sections of the navigation, the
# session): left out of the report.
BORING = re.compile(
    r'FROM "features_section" ORDER BY|FROM "(django_session|auth_user)"|^(SAVEPOINT|RELEASE)'
)


def pages():
    live = Feature.objects.live()
    count = live.count()
    deep = live.order_by("-publish_at", "-pk")[count * 9 // 10]
    section = Section.objects.filter(features__in=live).first()
    author = Author.objects.with_live_features().order_by("name").first()
    tag = live.filter(tags__isnull=False).values_list("tags__slug", flat=True).first()
    feature = live.order_by("publish_at")[count // 2]
    return [
        ("Home", "/"),
        ("Feature list, page 1", "/features/"),
        ("Feature list, deep (by cursor)", f"/features/?before={cursor_of(deep)}"),
        ("Feature", feature.get_absolute_url()),
        ("Section page", section.get_absolute_url()),
        ("Author page", author.get_absolute_url()),
        ("Tag page", f"/tags/{tag}/"),
        ("Search", f"/search/?q={feature.title.split()[0]}"),
        ("Latest feed", "/feeds/latest.rss"),
        ("Section feed", f"/feeds/sections/{section.slug}.rss"),
        ("Author feed", f"/feeds/authors/{author.slug}.rss"),
        ("Tag feed", f"/feeds/tags/{tag}.rss"),
    ]


def main():
    if connection.vendor != "postgresql":
        sys.exit("The plans are PostgreSQL's: set DATABASE_URL to a seeded PostgreSQL database.")
    settings.ALLOWED_HOSTS = ["*"]
    client = Client()
    print(f"{Feature.objects.live().count():,} live features of {Feature.objects.count():,}.\n")
    for title, path in pages():
        client.get(path, secure=True)  # warm: the plans are of a page served again
        caching.forget_go_live()  # but with the next go-live looked up, as every few seconds
        with CaptureQueriesContext(connection) as captured:
            status = client.get(path, secure=True).status_code
        queries = [q["sql"] for q in captured.captured_queries if not BORING.search(q["sql"])]
        print(f"### {title}: `{path}` (HTTP {status}, {len(captured)} queries)\n")
        for sql in queries:
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) {sql}")
                plan = "\n".join(row[0] for row in cursor.fetchall())
            # The column list says nothing about the plan: shortened to an ellipsis (each
            # one's, where a statement asks several queries together: SELECT (…), (…)). A list
            # with brackets in it (a subquery) is left whole.
            short = re.sub(r"(^|\()SELECT ([^()]*?) FROM ", r"\1SELECT … FROM ", sql)
            print(f"```sql\n{short}\n```\n```\n{plan}\n```\n")


if __name__ == "__main__":
    main()
