"""
Many features at once, for benchmarks: bulk inserts, a progress bar, no per-row saves.

The rows go in with bulk_create, and on PostgreSQL with COPY: there, most of bulk_create's
time is spent composing INSERTs of tens of thousands of parameters, in Django's compiler and
in psycopg's parsing of the placeholders, which COPY never writes (docs/performance.md).
"""

import random
from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone
from taggit.models import Tag, TaggedItem
from tqdm import tqdm

from features import caching
from features.models import Author, Byline, Feature, Section, Status
from features.sanitise import html_to_text

SECTIONS = ["News", "Features", "Opinion", "Interviews", "Research", "Events"]
WORDS = [
    "leadership", "quality", "patients", "safety", "learning", "teams", "care", "standards",
    "improvement", "practice", "education", "research", "evidence", "guidance", "community",
    "regulation", "nurses", "doctors", "training", "wellbeing", "services", "funding",
    "digital", "data", "partnership", "review", "report", "conference",
]  # fmt: skip
ROLES = ["Staff Writer", "Head of News", "Policy Adviser", "Medical Director", "Researcher"]
BATCH = 2000


class Command(BaseCommand):
    help = (
        "Create N live features, plus 5% as many drafts and 1% scheduled, with authors, "
        "tags and sections."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--features", type=int, default=10_000, help="How many (default 10000)."
        )
        parser.add_argument("--seed", type=int, default=2009, help="Random seed, for repeat runs.")

    def handle(self, *args, **options):
        count = options["features"]
        if count < 1:
            raise CommandError("--features must be at least 1.")
        rng = random.Random(options["seed"])
        run = Feature.objects.count()
        # A few hundred bodies, cleaned once, are shared out: cleaning is the slow part.
        self.bodies = []
        for _ in range(300):
            body = "".join(
                f"<p>{' '.join(rng.choices(WORDS, k=40)).capitalize()}.</p>" for _ in range(4)
            )
            self.bodies.append((body, html_to_text(body)))
        with transaction.atomic():
            sections = self.sections()
            authors = self.authors(max(20, count // 50), run)
            tags = self.tags(200)
            content_type = ContentType.objects.get_for_model(Feature)
            now = timezone.now()
            total = count + count // 20 + count // 100
            self.kinds = (count, count + count // 20)  # live below, then drafts, then scheduled
            progress = tqdm(total=total, unit="features", disable=options["verbosity"] == 0)
            for start in range(0, total, BATCH):
                size = min(BATCH, total - start)
                features = create(
                    Feature, [self.feature(rng, run, start + n, sections, now) for n in range(size)]
                )
                # Plain rows for the two link tables: the ORM's per-object work is the cost.
                insert_rows(
                    Byline,
                    ["feature_id", "author_id", "position", "job_title", "organisation",
                     "role_frozen"],
                    [row for feature in features for row in self.bylines(rng, feature, authors)],
                )  # fmt: skip
                insert_rows(
                    TaggedItem,
                    ["content_type_id", "object_id", "tag_id"],
                    [
                        (content_type.pk, feature.pk, tag.pk)
                        for feature in features
                        for tag in rng.sample(tags, rng.randint(1, 3))
                    ],
                )
                progress.update(size)
            progress.close()
        if connection.vendor == "postgresql":
            # Fresh statistics and visibility maps: the planner sees the new rows at once,
            # instead of whenever autovacuum comes round (in the middle of a benchmark).
            # (VACUUM cannot run inside a transaction, as in the tests: ANALYZE alone then.)
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
            with connection.cursor() as cursor:
                for model in (Feature, Byline, TaggedItem, Author, Tag):
                    cursor.execute(f"{command} {model._meta.db_table}")
        caching.bump()
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {count} live features, {count // 20} drafts and {count // 100} scheduled."
            )
        )

    def sections(self):
        return [
            Section.objects.get_or_create(
                slug=name.lower(), defaults={"name": name, "position": position}
            )[0]
            for position, name in enumerate(SECTIONS, start=10)
        ]

    def authors(self, count, run):
        return Author.objects.bulk_create(
            Author(
                name=f"Author {run}-{n}",
                slug=f"author-{run}-{n}",
                job_title=ROLES[n % len(ROLES)],
                organisation="The Trust" if n % 3 == 0 else "",
            )
            for n in range(count)
        )

    def tags(self, count):
        existing = {tag.slug: tag for tag in Tag.objects.filter(slug__startswith="bulk-topic-")}
        Tag.objects.bulk_create(
            Tag(name=f"Bulk topic {n}", slug=f"bulk-topic-{n}")
            for n in range(count)
            if f"bulk-topic-{n}" not in existing
        )
        return list(Tag.objects.filter(slug__startswith="bulk-topic-"))

    def feature(self, rng, run, index, sections, now):
        number = run + index
        words = rng.sample(WORDS, 6)
        title = f"{' '.join(words[:4]).capitalize()} ({number})"
        body, body_text = rng.choice(self.bodies)
        live, drafts = self.kinds
        if index < live:
            status = Status.PUBLISHED
            publish_at = now - timedelta(minutes=rng.randint(1, 60 * 24 * 365 * 15))
        elif index < drafts:
            status, publish_at = Status.DRAFT, None
        else:
            status, publish_at = Status.PUBLISHED, now + timedelta(days=rng.randint(1, 30))
        return Feature(
            title=title,
            slug=f"bulk-{number}",
            standfirst=f"{' '.join(words).capitalize()}: a standfirst of feature {number}.",
            body=body,
            body_text=body_text,
            section=rng.choice(sections),
            status=status,
            publish_at=publish_at,
            first_published_at=publish_at,
        )

    def bylines(self, rng, feature, authors):
        chosen = rng.sample(authors, rng.randint(1, 3))
        frozen = feature.status == Status.PUBLISHED
        return [
            (
                feature.pk,
                author.pk,
                position,
                author.job_title if frozen else "",
                author.organisation if frozen else "",
                frozen,
            )
            for position, author in enumerate(chosen)
        ]


def create(model, objects):
    """bulk_create(objects), or on PostgreSQL a COPY of them, with ids from the table's own."""
    if connection.vendor != "postgresql":
        return model.objects.bulk_create(objects)
    meta = model._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    database = connections[DEFAULT_DB_ALIAS]  # the connection itself, not its per-thread proxy
    with database.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(objects)],
        )
        for obj, (pk,) in zip(objects, cursor.fetchall(), strict=True):
            obj.pk = pk

    def row(obj):
        return [obj.pk] + [
            field.get_db_prep_save(field.pre_save(obj, add=True), database) for field in fields
        ]

    copy_rows(model, [meta.pk.column] + [field.column for field in fields], map(row, objects))
    for obj in objects:
        obj._state.adding, obj._state.db = False, database.alias
    return objects


def copy_rows(model, columns, rows):
    """PostgreSQL's COPY of plain rows into the model's table."""
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    # The names come from the model and the rows are data: nothing from outside.
    sql = f"COPY {model._meta.db_table} ({names}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def insert_rows(model, columns, rows):
    """Plain rows for a table: COPY on PostgreSQL, elsewhere as few multi-row INSERTs as can be."""
    if connection.vendor == "postgresql":
        return copy_rows(model, columns, rows)
    table = model._meta.db_table
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    per_statement = min(1000, (connection.features.max_query_params or 65535) // len(columns))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            # The names come from the model and the values are parameters: nothing from outside.
            sql = f"INSERT INTO {table} ({names}) VALUES {', '.join([row] * len(chunk))}"  # noqa: S608
            cursor.execute(sql, [value for values in chunk for value in values])
