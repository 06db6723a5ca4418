import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import TestCase
from pypdf import PdfReader

from features.models import (
    Author,
    Download,
    DownloadCategory,
    Feature,
    Section,
    Status,
    TaggedFeature,
)


def run(command, *args):
    out = io.StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


class SeedDemoTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        run("seed_demo")

    def test_running_twice_creates_no_duplicates(self):
        counts = [Section.objects.count(), Author.objects.count(), Feature.objects.count(),
                  Download.objects.count()]  # fmt: skip
        output = run("seed_demo")
        assert "0 new features" in output
        assert counts == [Section.objects.count(), Author.objects.count(),
                          Feature.objects.count(), Download.objects.count()]  # fmt: skip

    def test_leading_on_leadership_has_its_date_and_shared_byline(self):
        feature = Feature.objects.get(slug="leading-on-leadership")
        assert feature.is_live
        assert feature.published_date.strftime("%-d %B %Y") == "25 March 2009"
        assert feature.byline == (
            "Pippa Gough and Abigail Masterson, "
            "Assistant Directors in Clinical Quality at the Health Foundation"
        )

    def test_there_are_a_dozen_more_features_over_several_sections_and_tags(self):
        live = Feature.objects.live()
        assert live.count() >= 13
        assert live.values("section").distinct().count() >= 3
        assert live.values("tags").distinct().count() >= 5
        assert live.dates("publish_at", "day").count() >= 10

    def test_a_draft_and_a_scheduled_feature_exist_and_do_not_show(self):
        draft = Feature.objects.filter(status=Status.DRAFT).first()
        scheduled = [f for f in Feature.objects.filter(status=Status.PUBLISHED) if f.is_scheduled]
        assert draft is not None and scheduled
        in_review = Feature.objects.get(status=Status.IN_REVIEW)
        home = self.client.get("/").content.decode()
        for hidden in [draft, in_review, scheduled[0]]:
            assert hidden.title not in home
            assert self.client.get(hidden.get_absolute_url()).status_code == 404
        listing = self.client.get("/features/", {"page": "last"}).content.decode()
        assert draft.title not in listing and in_review.title not in listing

    def test_the_scheduled_feature_stays_scheduled_on_an_old_database(self):
        scheduled = Feature.objects.get(slug="spring-conference-preview")
        Feature.objects.filter(pk=scheduled.pk).update(
            publish_at=scheduled.publish_at.replace(year=2020)
        )
        run("seed_demo")
        scheduled.refresh_from_db()
        assert scheduled.is_scheduled

    def test_the_crossword_is_a_real_pdf(self):
        crossword = Download.objects.live().get(category=DownloadCategory.CROSSWORD)
        with crossword.file.open("rb") as handle:
            assert len(PdfReader(handle).pages) == 2
        assert crossword.page_count == 2 and crossword.mime_type == "application/pdf"

    def test_home_page_shows_the_demo(self):
        response = self.client.get("/")
        self.assertContains(response, "Leading on leadership")
        self.assertContains(response, "Pippa Gough and Abigail Masterson")
        self.assertContains(response, "Download the crossword")


class DemoUsersTests(TestCase):
    def test_prints_working_generated_passwords_that_differ_each_run(self):
        run("seed_demo")
        first = run("demo_users")
        second = run("demo_users")
        pattern = r"user name: editor\s+password: (\S+)"
        first_password = re.search(pattern, first).group(1)
        second_password = re.search(pattern, second).group(1)
        assert first_password != second_password and len(second_password) >= 12
        editor = get_user_model().objects.get(username="editor")
        assert editor.check_password(second_password)
        assert editor.is_staff and editor.groups.filter(name="Editors").exists()
        response = self.client.post(
            "/admin/login/", {"username": "editor", "password": second_password, "next": "/admin/"}
        )
        assert response.status_code == 302
        assert self.client.get("/admin/").status_code == 200


class SeedBulkTests(TestCase):
    def test_creates_n_live_features_with_drafts_scheduled_bylines_and_tags(self):
        output = run("seed_bulk", "--features", "200", "--verbosity", "0")
        assert "Created 200 live features, 10 drafts and 2 scheduled." in output
        assert Feature.objects.live().count() == 200
        assert Feature.objects.filter(status=Status.DRAFT).count() == 10
        assert sum(f.is_scheduled for f in Feature.objects.filter(status=Status.PUBLISHED)) == 2
        feature = Feature.objects.live().first()
        assert 1 <= feature.bylines.count() <= 3 and 1 <= feature.tags.count() <= 3
        assert feature.body_text and feature.byline
        # Every column as bulk_create would write it (PostgreSQL takes the rows by COPY).
        assert feature.created_at and feature.updated_at and feature.first_published_at
        assert feature.hero_image_renditions == {} and not feature.hero_image
        assert feature.version == Feature._meta.get_field("version").default
        assert not feature.needs_approval and feature.left_public_at is None
        # The pages work on what it made.
        assert self.client.get("/features/", {"page": "last"}).status_code == 200
        assert self.client.get(feature.get_absolute_url()).status_code == 200

    def test_running_twice_adds_more_without_clashing(self):
        run("seed_bulk", "--features", "50", "--verbosity", "0")
        run("seed_bulk", "--features", "50", "--verbosity", "0")
        assert Feature.objects.live().count() == 100
        # Rows written with ids of their own (COPY, on PostgreSQL, as in CI) leave the
        # table's id sequence ahead of them.
        section = Section.objects.first()
        created = Feature.objects.create(title="After the seed", section=section)
        assert created.pk > max(Feature.objects.exclude(pk=created.pk).values_list("pk", flat=True))

    def test_seeded_features_are_found_by_search(self):
        # On PostgreSQL (as in CI) the search vector is written by the table's trigger.
        run("seed_bulk", "--features", "40", "--verbosity", "0")
        feature = Feature.objects.live().first()
        number = feature.slug.removeprefix("bulk-")  # each title ends with "(number)"
        response = self.client.get("/search/", {"q": number})
        self.assertContains(response, feature.title)

    def test_seeded_taggings_hold_their_features_values(self):
        run("seed_bulk", "--features", "60", "--verbosity", "0")
        taggings = TaggedFeature.objects.select_related("content_object")
        assert taggings.count() >= 63
        for tagging in taggings:
            feature = tagging.content_object
            assert (tagging.status, tagging.publish_at, tagging.left_public_at) == (
                feature.status, feature.publish_at, feature.left_public_at
            )  # fmt: skip

    @pytest.mark.postgres
    def test_the_indexes_are_built_again_as_they_were(self):
        # On PostgreSQL the load drops the tables' indexes and builds them after it.
        def indexes():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN"
                    " ('features_feature', 'features_byline', 'features_taggedfeature')"
                )
                return dict(cursor.fetchall())

        before = indexes()
        assert "feature_search_idx" in before and "taggedfeature_live_idx" in before
        run("seed_bulk", "--features", "30", "--verbosity", "0")
        assert indexes() == before

    @pytest.mark.postgres
    def test_seeded_search_vectors_are_what_the_trigger_writes(self):
        # seed_bulk gives each row its vector, computing each shared body's once; the
        # trigger keeps a vector given on insert. It must be the one the trigger computes.
        run("seed_bulk", "--features", "60", "--verbosity", "0")
        seeded = dict(Feature.objects.values_list("pk", "search_vector"))
        assert len(seeded) == 63 and all(seeded.values())
        # Any update recomputes the vector: the trigger's own, to compare with.
        with connection.cursor() as cursor:
            cursor.execute("UPDATE features_feature SET search_vector = NULL")
        assert dict(Feature.objects.values_list("pk", "search_vector")) == seeded
