"""How the project talks to PostgreSQL: prepared statements, and times read by compiled code."""

import datetime

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader
from django.test import SimpleTestCase, TestCase

from features.models import Feature
from newsroom import database
from newsroom.settings import postgresql_options
from tests.factories import make_feature, make_user


@pytest.mark.postgres
class PreparedStatementTests(TestCase):
    def prepared(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            return [statement for (statement,) in cursor.fetchall()]

    def test_parameters_are_bound_by_the_server(self):
        options = settings.DATABASES["default"]["OPTIONS"]
        self.assertIs(options["server_side_binding"], True)
        self.assertTrue(connection.features.uses_server_side_binding)

    def test_a_query_run_again_and_again_is_prepared_once(self):
        make_feature("Orchards in spring")
        threshold = connection.connection.prepare_threshold
        self.assertIsInstance(threshold, int)
        for _ in range(threshold + 2):
            self.assertEqual(Feature.objects.live().filter(slug="orchards-in-spring").count(), 1)
        prepared = [sql for sql in self.prepared() if '"slug" = $' in sql]
        self.assertEqual(len(prepared), 1, self.prepared())

    def test_search_is_written_out_in_full_and_never_prepared(self):
        # Each search is planned for its own words (its text, with the time in it, is new
        # every time): one generic plan would read every match of a common word. Quotes and
        # percent signs in the words stay words.
        make_feature("It's 50% off in the orchard")
        for _ in range(connection.connection.prepare_threshold + 2):
            response = self.client.get("/search/", {"q": "it's 50% orchard"})
            self.assertContains(response, "50% off in the orchard")
        self.assertFalse([sql for sql in self.prepared() if "ts_rank" in sql])


@pytest.mark.postgres
class CompiledTimeLoaderTests(TestCase):
    def test_connections_read_times_with_the_compiled_loader(self):
        connection.ensure_connection()
        loader = connection.connection.adapters.get_loader(
            connection.connection.adapters.types["timestamptz"].oid, 0
        )
        self.assertIs(loader, database.UtcTimestamptzLoader)

    def test_times_read_back_as_written_in_utc(self):
        moment = datetime.datetime(2009, 3, 25, 23, 30, 15, 123456, tzinfo=datetime.UTC)
        feature = make_feature("Crossword", publish_at=moment)
        read = Feature.objects.values_list("publish_at", flat=True).get(pk=feature.pk)
        self.assertEqual(read, moment)
        self.assertIs(read.tzinfo, datetime.UTC)
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s::timestamptz", [moment])
            self.assertEqual(cursor.fetchone()[0], moment)

    def test_a_connection_in_another_zone_keeps_djangos_loader(self):
        # The compiled loader takes the zone a connection is in; Django's loader is kept
        # wherever that is not UTC.
        connection.ensure_connection()
        adapters = connection.connection.adapters
        oid = adapters.types["timestamptz"].oid
        register_tzloader(datetime.UTC, connection.connection)
        djangos = adapters.get_loader(oid, 0)
        with connection.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'Europe/London'")
        try:
            database.use_compiled_loader(sender=None, connection=connection)
            self.assertIs(adapters.get_loader(oid, 0), djangos)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET TIME ZONE 'UTC'")
            adapters.register_loader("timestamptz", database.UtcTimestamptzLoader)


class PrepareThresholdSettingTests(SimpleTestCase):
    def test_a_number_of_runs_or_off(self):
        assert postgresql_options(None) == {"server_side_binding": True, "prepare_threshold": 5}
        assert postgresql_options(" 2 ")["prepare_threshold"] == 2
        assert postgresql_options("0")["prepare_threshold"] == 0
        # Off: Django's own way, nothing bound by the server, nothing prepared.
        assert postgresql_options("off") == {}
        assert postgresql_options("OFF") == {}

    def test_anything_else_stops_the_site_with_a_clear_message(self):
        with pytest.raises(ImproperlyConfigured, match="DATABASE_PREPARE_THRESHOLD"):
            postgresql_options("often")
        with pytest.raises(ImproperlyConfigured, match="DATABASE_PREPARE_THRESHOLD"):
            postgresql_options("²")


@pytest.mark.postgres
class ServerBoundQueriesTests(TestCase):
    def test_the_admins_date_drill_down_groups_by_a_bound_time_zone(self):
        # The date hierarchy groups features by truncated times, with the time zone as a
        # parameter: a query that server-side binding is known to trouble.
        feature = make_feature(
            "Crossword", publish_at=datetime.datetime(2009, 3, 25, 12, tzinfo=datetime.UTC)
        )
        self.client.force_login(make_user(group="Editors"))
        for query in ["", "?publish_at__year=2009", "?publish_at__year=2009&publish_at__month=3",
                      "?publish_at__year=2009&publish_at__month=3&publish_at__day=25"]:  # fmt: skip
            with self.subTest(query=query):
                response = self.client.get(f"/admin/features/feature/{query}")
                self.assertContains(response, feature.title)
