"""Statements compiled once give what the ORM gives, with each run's own values."""

from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import F
from django.db.models.expressions import RawSQL
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext

from features.models import Feature, Section, Status
from features.statements import Statement
from tests.factories import make_feature, make_section

JAN, FEB, MAR = (datetime(2009, month, 1, 12, tzinfo=UTC) for month in (1, 2, 3))


class StatementTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.news, cls.opinion = make_section("News"), make_section("Opinion")
        cls.first = make_feature("First", section=cls.news, publish_at=JAN)
        cls.second = make_feature("Second", section=cls.news, publish_at=FEB)
        cls.third = make_feature("Third", section=cls.opinion, publish_at=MAR)
        cls.draft = make_feature("Draft", section=cls.news, status=Status.DRAFT, publish_at=JAN)

    def setUp(self):
        self.builds = []

        def newest(now, section):
            self.builds.append((now, section))
            live = Feature.objects.filter(section=section).newest_live(now=now)
            return live.values_list("pk", "title", "publish_at")

        self.newest = Statement(newest)

    def orm(self, now, section):
        live = Feature.objects.filter(section=section).newest_live(now=now)
        return list(live.values_list("pk", "title", "publish_at"))

    def test_each_run_has_its_own_values_and_the_orms_rows(self):
        for now, section in [(FEB, self.news), (MAR, self.news), (MAR, self.opinion)]:
            with self.subTest(now=now, section=section.name):
                rows = self.newest.rows(now, section.pk)
                assert rows == self.orm(now, section.pk)
        assert [title for _pk, title, _at in self.newest.rows(MAR, self.news.pk)] == [
            "Second", "First",
        ]  # fmt: skip
        assert self.newest.rows(JAN - timedelta(days=1), self.news.pk) == []

    def test_times_are_read_as_the_orm_reads_them(self):
        (_pk, _title, published), *_ = self.newest.rows(MAR, self.news.pk)
        assert published == FEB
        assert published.utcoffset() == timedelta(0)

    def test_it_is_built_once_and_runs_as_one_query(self):
        self.newest.rows(FEB, self.news.pk)
        with CaptureQueriesContext(connection) as queries:
            self.newest.rows(MAR, self.opinion.pk)
        assert len(self.builds) == 1
        assert len(queries) == 1
        # Built with stand-ins that no real query holds.
        stand_in_time, stand_in_id = self.builds[0]
        assert stand_in_time.year == 1901
        assert not Section.objects.filter(pk=stand_in_id).exists()

    def test_a_list_of_another_length_is_compiled_again(self):
        named = Statement(lambda ids: Feature.objects.filter(pk__in=ids).values_list("title"))
        assert sorted(named.rows([self.first.pk, self.third.pk])) == [("First",), ("Third",)]
        assert named.rows([self.second.pk]) == [("Second",)]
        assert sorted(named.rows([self.second.pk, self.draft.pk])) == [("Draft",), ("Second",)]
        assert len(named.compiled) == 2

    def test_querysets_asked_together_give_one_row_of_their_values(self):
        def bounds(now):
            live = Feature.objects.live(now=now)
            oldest = live.order_by("publish_at").values_list("publish_at")[:1]
            newest = live.order_by("-publish_at").values_list("publish_at")[:1]
            nothing = live.filter(title="Nowhere").values_list("title")[:1]
            return oldest, newest, nothing

        together = Statement(bounds)
        with CaptureQueriesContext(connection) as queries:
            assert together.row(MAR) == (JAN, MAR, None)
        assert len(queries) == 1
        assert together.row(FEB) == (JAN, FEB, None)

    def test_a_changed_setting_compiles_it_again(self):
        self.newest.rows(FEB, self.news.pk)
        with override_settings(USE_THOUSAND_SEPARATOR=True):
            self.newest.rows(FEB, self.news.pk)
        assert len(self.builds) == 2

    def test_a_value_the_query_leaves_out_is_refused(self):
        ignores = Statement(lambda now, pk: Feature.objects.live(now=now).values_list("pk"))
        with self.assertRaisesMessage(ValueError, "Value 2 is not a parameter"):
            ignores.rows(MAR, self.first.pk)

    def test_a_value_written_into_the_sql_is_refused(self):
        def written(pk):
            return Feature.objects.filter(pk=RawSQL(str(pk), ())).values_list("pk")  # noqa: S611

        with self.assertRaisesMessage(ValueError, "Value 1 is written into the statement's SQL"):
            Statement(written).rows(self.first.pk)

    def test_a_value_written_into_another_parameter_is_refused(self):
        def derived(pk):
            return Feature.objects.filter(slug=f"feature-{pk}").values_list("pk")

        with self.assertRaisesMessage(ValueError, "Value 1 is written into the statement's SQL"):
            Statement(derived).rows(self.first.pk)

    def test_a_value_used_twice_is_put_in_both_places(self):
        def published_by(now):
            live = Feature.objects.live(now=now).filter(first_published_at__lte=now)
            return live.order_by("publish_at").values_list("title")

        published = Statement(published_by)
        Feature.objects.update(first_published_at=F("publish_at"))
        assert published.rows(FEB) == [("First",), ("Second",)]
        assert published.rows(MAR) == [("First",), ("Second",), ("Third",)]

    def test_a_time_read_while_building_is_refused(self):
        # live() without now= reads the clock: that time would be every run's.
        clock = Statement(lambda pk: Feature.objects.live().filter(pk=pk).values_list("pk"))
        with self.assertRaisesMessage(ValueError, "holds a time that is not one of its values"):
            clock.rows(self.first.pk)

    def test_a_value_worked_out_from_one_is_refused(self):
        def day_before(now):
            return Feature.objects.filter(publish_at__lte=now - timedelta(days=1)).values_list("pk")

        def next_one(pk):
            return Feature.objects.filter(pk__in=[pk, pk + 1]).values_list("pk")

        with self.assertRaisesMessage(ValueError, "is not a parameter"):
            Statement(day_before).rows(MAR)
        with self.assertRaisesMessage(ValueError, "worked out from one"):
            Statement(next_one).rows(self.first.pk)

    def test_querysets_asked_together_must_each_give_one_value(self):
        def unsliced(now):
            return (Feature.objects.live(now=now).values_list("title"),)

        def two_columns(now):
            return (Feature.objects.live(now=now).values_list("pk", "title")[:1],)

        for build in [unsliced, two_columns]:
            with (
                self.subTest(build=build.__name__),
                self.assertRaisesMessage(TypeError, "one column, [:1]"),
            ):
                Statement(build).row(MAR)

    def test_only_values_lists_and_plain_values_are_taken(self):
        instances = Statement(lambda pk: Feature.objects.filter(pk=pk))
        named = Statement(lambda pk: Feature.objects.filter(pk=pk).values_list("pk", named=True))
        for statement in [instances, named]:
            with self.assertRaisesMessage(TypeError, "values_list() querysets"):
                statement.rows(self.first.pk)
        with self.assertRaisesMessage(TypeError, "not True"):
            self.newest.rows(MAR, True)
        with self.assertRaisesMessage(TypeError, "aware datetimes"):
            self.newest.rows(datetime(2009, 3, 1), self.news.pk)
        with self.assertRaisesMessage(ValueError, "an empty list"):
            Statement(lambda ids: Feature.objects.filter(pk__in=ids).values_list("pk")).rows([])
