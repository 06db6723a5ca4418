from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import TestCase
from django.utils import timezone

from features.models import Feature, Status
from tests.factories import features_listed, make_feature, make_section


class SearchTests(TestCase):
    """On every database: live features only, by title, standfirst and body."""

    @classmethod
    def setUpTestData(cls):
        section = make_section("News")
        cls.in_title = make_feature(
            "Orchards in spring", section=section, standfirst="Blossom time.", body="<p>Bees.</p>"
        )
        cls.in_body = make_feature(
            "Garden notes", section=section, standfirst="Weekly notes.",
            body="<p>The orchards were quiet.</p>",
        )  # fmt: skip
        cls.draft = make_feature("Orchards draft", section=section, status=Status.DRAFT)

    def results(self, query):
        return features_listed(self.client.get("/search/", {"q": query}))

    def test_title_and_body_matches_are_found_and_drafts_are_not(self):
        assert set(self.results("orchards")) == {self.in_title, self.in_body}

    def test_a_word_in_very_many_features_ranks_only_the_newest_matches(self):
        from datetime import timedelta

        from django.test import override_settings
        from django.utils import timezone

        now = timezone.now()
        section = self.in_title.section
        newest = [
            make_feature(f"Orchard diary {n}", section=section, publish_at=now - timedelta(hours=n))
            for n in range(1, 4)
        ]
        with override_settings(NEWSROOM={**settings.NEWSROOM, "SEARCH_MATCHES": 3}):
            response = self.client.get("/search/", {"q": "orchard"})
        assert set(features_listed(response)) == set(newest)
        self.assertContains(response, "3 or more results for “orchard”")
        self.assertContains(response, "Showing the 3 newest, most relevant first.")
        few = self.client.get("/search/", {"q": "quiet"})
        self.assertContains(few, "1 result for “quiet”")
        self.assertNotContains(few, "or more results")

    def test_a_later_edit_is_searchable_at_once(self):
        self.in_body.body = "<p>Now about beehives.</p>"
        self.in_body.save()
        assert self.results("beehives") == [self.in_body]
        assert self.results("quiet") == []


@pytest.mark.postgres
class PostgresSearchTests(TestCase):
    """PostgreSQL full-text search: ranked, stemmed, indexed."""

    @classmethod
    def setUpTestData(cls):
        section = make_section("News")
        cls.in_body = make_feature(
            "Garden notes", section=section, standfirst="Weekly notes.",
            body="<p>We talked about publishing the minutes.</p>",
        )  # fmt: skip
        # Older than the body match, so only its rank can put it first.
        cls.in_title = make_feature(
            "Publishing the minutes", section=section, standfirst="How and when.",
            publish_at=timezone.now() - timedelta(days=5),
        )  # fmt: skip

    def results(self, query):
        return features_listed(self.client.get("/search/", {"q": query}))

    def test_a_title_match_ranks_above_a_body_match(self):
        assert self.results("publishing minutes") == [self.in_title, self.in_body]

    def test_equal_ranks_come_newest_first(self):
        section = self.in_body.section
        same = {"section": section, "standfirst": "Rota.", "body": "<p>The beekeeping rota.</p>"}
        older = make_feature("Beekeeping", slug="beekeeping-1", **same,
                             publish_at=timezone.now() - timedelta(days=3))  # fmt: skip
        newer = make_feature("Beekeeping", slug="beekeeping-2", **same,
                             publish_at=timezone.now() - timedelta(days=2))  # fmt: skip
        assert self.results("beekeeping") == [newer, older]

    def test_words_are_stemmed(self):
        assert set(self.results("published")) == {self.in_title, self.in_body}

    def test_websearch_syntax_excludes_words(self):
        assert self.results("minutes -garden") == [self.in_title]

    def test_vector_is_kept_by_the_database_for_bulk_writes_too(self):
        section = self.in_body.section
        Feature.objects.bulk_create(
            [Feature(title="Bulk orchard", slug="bulk-orchard", standfirst="S", section=section)]
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT search_vector IS NOT NULL FROM features_feature WHERE slug = %s",
                ["bulk-orchard"],
            )
            assert cursor.fetchone()[0] is True

    def test_the_search_index_exists(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'feature_search_idx'")
            assert "gin (search_vector)" in cursor.fetchone()[0].lower()

    def test_the_vector_is_kept_in_the_row_where_it_fits(self):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT attstorage FROM pg_attribute"
                " WHERE attrelid = 'features_feature'::regclass AND attname = 'search_vector'"
            )
            assert cursor.fetchone()[0] == "m"  # MAIN: in the row, out of it only if too big

    def test_a_feature_too_long_for_its_row_is_saved_and_found(self):
        # Its vector cannot stay in the row: PostgreSQL stores it out of the row after all.
        words = " ".join(f"word{number}" for number in range(3000))
        long = make_feature("Long read", section=self.in_body.section, body=f"<p>{words}</p>")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_column_size(search_vector) FROM features_feature WHERE id = %s",
                [long.pk],
            )
            assert cursor.fetchone()[0] > 8192  # more than a page: out of the row
        assert self.results("word2999") == [long]
