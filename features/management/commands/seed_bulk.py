"""
Many features at once, for benchmarks: bulk inserts, a progress bar, no per-row saves.

The rows go in with bulk_create, and on PostgreSQL with COPY: there, most of bulk_create's
time is spent composing INSERTs of tens of thousands of parameters, in Django's compiler and
in psycopg's parsing of the placeholders, which COPY never writes (docs/performance.md).
On PostgreSQL the indexes of the features, bylines and taggings tables are dropped for the
load and built again after it, so those tables are locked against readers until it ends:
seed a database no site is serving.
"""

import queue
import random
import sys
import threading
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Max
from django.utils import timezone
from taggit.models import Tag
from tqdm import tqdm

from features import caching
from features.models import Author, Byline, Feature, Section, Status, TaggedFeature
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
        postgresql = connection.vendor == "postgresql"
        with transaction.atomic():
            sections = self.sections()
            authors = self.authors(max(20, count // 50), run)
            tags = self.tags(200)
            now = timezone.now()
            total = count + count // 20 + count // 100
            self.kinds = (count, count + count // 20)  # live below, then drafts, then scheduled
            progress = tqdm(total=total, unit="features", disable=options["verbosity"] == 0)
            # On PostgreSQL the rows go in by COPY, written by a thread of their own while
            # the next batch is made here: the database's work and Python's overlap.
            ids = iter(reserve_ids(Feature, total))
            writer = CopyWriter(self.search_vectors_of_bodies()) if postgresql else None
            try:
                for start in range(0, total, BATCH):
                    size = min(BATCH, total - start)
                    features = [
                        self.feature(rng, run, start + n, sections, now) for n in range(size)
                    ]
                    for feature in features:
                        feature.pk = next(ids)
                    if not postgresql:
                        insert_rows(Feature, FEATURE_COLUMNS, [feature_row(f) for f in features])
                    bylines = [
                        row for feature in features for row in self.bylines(rng, feature, authors)
                    ]
                    # Each tagging with its copy of the feature's values, as the database
                    # would write it: its trigger then has nothing to do.
                    taggings = [
                        (feature.pk, tag.pk, *copy)
                        for feature in features
                        for copy in [tagging_copy(feature)]
                        for tag in rng.sample(tags, rng.randint(1, 3))
                    ]
                    if postgresql:
                        writer.put(features, bylines, taggings)
                    else:
                        insert_rows(Byline, BYLINE_COLUMNS, bylines)
                        insert_rows(TaggedFeature, TAGGING_COLUMNS, taggings)
                    progress.update(size)
            except BaseException:
                if writer:
                    writer.abort()  # the transaction's rollback undoes what it wrote
                raise
            if writer:
                writer.close()
            progress.close()
        if connection.vendor == "postgresql":
            # Fresh statistics and visibility maps: the planner sees the new rows at once,
            # instead of whenever autovacuum comes round (in the middle of a benchmark).
            # (VACUUM cannot run inside a transaction, as in the tests: ANALYZE alone then.)
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
            with connection.cursor() as cursor:
                for model in (Feature, Byline, TaggedFeature, Author, Tag):
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
        body_index = rng.randrange(len(self.bodies))
        body, body_text = self.bodies[body_index]
        live, drafts = self.kinds
        if index < live:
            status = Status.PUBLISHED
            publish_at = now - timedelta(minutes=rng.randint(1, 60 * 24 * 365 * 15))
        elif index < drafts:
            status, publish_at = Status.DRAFT, None
        else:
            status, publish_at = Status.PUBLISHED, now + timedelta(days=rng.randint(1, 30))
        feature = Feature(
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
        feature.body_index = body_index
        return feature

    def search_vectors_of_bodies(self):
        """On PostgreSQL, each shared body's search vector (weight C), computed once."""
        if connection.vendor != "postgresql":
            return None
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setweight(to_tsvector('english', body), 'C')::text"
                " FROM unnest(%s::text[]) WITH ORDINALITY AS bodies(body, n) ORDER BY n",
                [[body_text for _body, body_text in self.bodies]],
            )
            return [vector for (vector,) in cursor.fetchall()]

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


BYLINE_COLUMNS = ["feature_id", "author_id", "position", "job_title", "organisation",
                  "role_frozen"]  # fmt: skip
COPY_COLUMNS = ["status", "publish_at", "left_public_at"]
TAGGING_COLUMNS = ["content_object_id", "tag_id", *COPY_COLUMNS]


COPY_FIELDS = [Feature._meta.get_field(name) for name in COPY_COLUMNS]


def tagging_copy(feature):
    """A feature's values that its taggings hold a copy of, as the database stores them."""
    return tuple(
        field.get_db_prep_save(getattr(feature, field.attname), connection) for field in COPY_FIELDS
    )


FEATURE_FIELDS = [field for field in Feature._meta.concrete_fields if not field.primary_key]
FEATURE_COLUMNS = [Feature._meta.pk.column] + [field.column for field in FEATURE_FIELDS]


def feature_row(feature):
    """A feature's row, each value as its field writes it (what bulk_create would send)."""
    return [feature.pk] + [
        field.get_db_prep_save(field.pre_save(feature, add=True), connection)
        for field in FEATURE_FIELDS
    ]


def reserve_ids(model, count):
    """
    ``count`` ids for new rows of the model's table: on PostgreSQL from the table's own
    sequence; on SQLite, which writes one transaction at a time, those after the highest.
    """
    meta = model._meta
    if connection.vendor != "postgresql":
        first = (model.objects.aggregate(highest=Max("pk"))["highest"] or 0) + 1
        return range(first, first + count)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, count],
        )
        return [pk for (pk,) in cursor.fetchall()]


class CopyWriter:
    """
    Writes batches of features, bylines and taggings to PostgreSQL by COPY, in a thread of
    its own, on the command's connection and in its transaction. Meanwhile the command
    makes the next batch, and must not use the connection itself until close().

    Each feature is given its search vector as the table's trigger would write it (title
    A, standfirst B, body C), with the body's taken from those computed once; the trigger
    keeps a vector given on insert (migration 0018).
    """

    # Tables whose indexes are built afresh after the load, which is quicker than keeping
    # them up to date row by row (the indexes of constraints stay).
    TABLES = (Feature, Byline, TaggedFeature)

    def __init__(self, body_vectors):
        self.body_vectors = body_vectors
        self.database = connections[DEFAULT_DB_ALIAS]  # the wrapper, not its per-thread proxy
        self.database.ensure_connection()
        self.raw = self.database.connection
        self.indexes = self.drop_indexes()
        self.vector_at = FEATURE_COLUMNS.index("search_vector")
        self.batches = queue.Queue(maxsize=2)
        self.error = None
        self.aborted = False
        # The thread mostly waits on the database; when it wakes, it should not wait long
        # for the interpreter's lock while the command makes rows.
        self.switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(0.0005)
        self.thread = threading.Thread(target=self.run, name="seed-copy", daemon=True)
        self.thread.start()

    def put(self, features, bylines, taggings):
        if self.error:
            raise self.error
        rows = [feature_row(feature) for feature in features]
        self.batches.put((features, rows, bylines, taggings))

    def close(self):
        """Wait for the last batch to be written, then build the indexes again."""
        self.stop()
        if self.error:
            raise self.error
        with self.raw.cursor() as cursor:
            # The foreign keys are checked now rather than at commit: PostgreSQL builds no
            # index on a table with checks still to come.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for definition in self.indexes:
                cursor.execute(definition)
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # as Django's foreign keys are

    def abort(self):
        """After a failure of the command's own: write nothing more, and end the thread."""
        self.aborted = True
        self.stop()

    def stop(self):
        try:
            self.batches.put(None)
            self.thread.join()
        finally:
            sys.setswitchinterval(self.switch_interval)

    def drop_indexes(self):
        """Drop the tables' indexes, but those of constraints; return their definitions."""
        tables = [model._meta.db_table for model in self.TABLES]
        with self.raw.cursor() as cursor:
            cursor.execute(
                "SELECT index.indexrelid::regclass::text, pg_get_indexdef(index.indexrelid)"
                " FROM pg_index index JOIN pg_class tables ON tables.oid = index.indrelid"
                " WHERE tables.relname = ANY(%s)"
                " AND tables.relnamespace = current_schema()::regnamespace"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = index.indexrelid)",
                [tables],
            )
            indexes = cursor.fetchall()
            for name, _definition in indexes:
                cursor.execute(f"DROP INDEX {name}")  # a name PostgreSQL has just given
        return [definition for _name, definition in indexes]

    def run(self):
        try:
            while (batch := self.batches.get()) is not None:
                if self.error is None and not self.aborted:
                    self.write(*batch)
        except BaseException as error:  # handed to the command's own thread
            self.error = error
            while self.batches.get() is not None:  # let the command finish putting
                pass

    def write(self, features, rows, bylines, taggings):
        with self.raw.cursor() as cursor:
            cursor.execute(
                "SELECT (setweight(to_tsvector('english', title), 'A')"
                " || setweight(to_tsvector('english', standfirst), 'B')"
                " || (%s::tsvector[])[body])::text"
                " FROM unnest(%s::text[], %s::text[], %s::int[])"
                " WITH ORDINALITY AS features(title, standfirst, body, n) ORDER BY n",
                [
                    self.body_vectors,
                    [feature.title for feature in features],
                    [feature.standfirst for feature in features],
                    [feature.body_index + 1 for feature in features],
                ],
            )
            for row, (vector,) in zip(rows, cursor.fetchall(), strict=True):
                row[self.vector_at] = vector
            self.copy(cursor, Feature, FEATURE_COLUMNS, rows)
            self.copy(cursor, Byline, BYLINE_COLUMNS, bylines)
            self.copy(cursor, TaggedFeature, TAGGING_COLUMNS, taggings)

    def copy(self, cursor, model, columns, rows):
        """PostgreSQL's COPY of plain rows into the model's table."""
        names = ", ".join(self.database.ops.quote_name(column) for column in columns)
        # The names come from the model and the rows are data: nothing from outside.
        sql = f"COPY {model._meta.db_table} ({names}) FROM STDIN"
        with cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)


def insert_rows(model, columns, rows):
    """Plain rows for a table in as few multi-row INSERTs as can be (SQLite's way)."""
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
