from datetime import UTC, datetime

from django.test import TestCase
from taggit.models import Tag

from features.cards import as_cards, credits_by_feature, plain_get, plain_rows, tags_by_feature
from features.models import Author, Byline, Feature, Section, Status
from features.search import RankedMatches
from tests.factories import make_author, make_co_authors, make_feature, make_section


class CardTests(TestCase):
    """A card says what the feature's own page says of it, read as plain rows."""

    @classmethod
    def setUpTestData(cls):
        cls.section = make_section("News")
        # 23:30 UTC on 24 March 2009 is 24 March in London (GMT); a day later, BST has begun.
        cls.feature = make_feature(
            "Nursing leadership", section=cls.section, authors=make_co_authors(),
            publish_at=datetime(2009, 3, 24, 23, 30, tzinfo=UTC),
        )  # fmt: skip
        cls.summer = make_feature(
            "Summer notes", section=cls.section,
            publish_at=datetime(2009, 6, 30, 23, 30, tzinfo=UTC),
        )  # fmt: skip

    def card(self, feature):
        return next(card for card in as_cards(Feature.objects.all()) if card.pk == feature.pk)

    def test_a_card_shows_the_features_title_links_and_byline(self):
        card = self.card(self.feature)
        assert card.title == "Nursing leadership"
        assert card.standfirst == self.feature.standfirst
        assert card.url == self.feature.get_absolute_url()
        assert (card.section_name, card.section_url) == ("News", self.section.get_absolute_url())
        assert card.byline == self.feature.byline
        assert card.byline == (
            "Pippa Gough and Abigail Masterson, Assistant Directors in Clinical Quality at "
            "the Health Foundation"
        )

    def test_a_card_dates_the_feature_in_london(self):
        card = self.card(self.feature)
        assert (card.published_iso, card.published_text) == ("2009-03-24", "24 March 2009")
        # 23:30 UTC on 30 June is 00:30 on 1 July in London (BST).
        summer = self.card(self.summer)
        assert (summer.published_iso, summer.published_text) == ("2009-07-01", "1 July 2009")

    def test_a_byline_frozen_without_a_role_shows_none(self):
        Byline.objects.filter(feature=self.feature).update(
            job_title="", organisation="", role_frozen=True
        )
        assert self.card(self.feature).byline == "Pippa Gough and Abigail Masterson"
        assert self.card(self.feature).byline == Feature.objects.get(pk=self.feature.pk).byline

    def test_a_byline_not_yet_frozen_follows_the_authors_current_role(self):
        author = make_author("Sam Reed", job_title="Chair")
        draft = make_feature("Plans", section=self.section, status=Status.DRAFT, authors=[author])
        assert self.card(draft).byline == "Sam Reed, Chair"
        Author.objects.filter(pk=author.pk).update(job_title="Editor")
        assert self.card(draft).byline == "Sam Reed, Editor"
        assert self.card(draft).byline == Feature.objects.get(pk=draft.pk).byline

    def test_a_feature_without_bylines_has_an_empty_byline(self):
        assert self.card(self.summer).byline == ""
        assert credits_by_feature([self.summer.pk]) == {}

    def test_the_cards_of_a_list_cost_three_queries_however_many_there_are(self):
        with self.assertNumQueries(3):
            few = list(as_cards(Feature.objects.all()))
        for _ in range(8):
            make_feature(section=self.section, authors=[make_author(), make_author()])
        with self.assertNumQueries(3):
            many = list(as_cards(Feature.objects.all()))
        assert (len(few), len(many)) == (2, 10)

    def test_tags_come_by_feature_in_name_order(self):
        tagged = make_feature(section=self.section, tags=["Wards", "Audit", "Leadership"])
        tags = tags_by_feature([tagged.pk, self.summer.pk])
        assert [(tag.name, tag.slug) for tag in tags[tagged.pk]] == [
            ("Audit", "audit"), ("Leadership", "leadership"), ("Wards", "wards"),
        ]  # fmt: skip
        assert self.summer.pk not in tags
        assert tags_by_feature([]) == {}


class RankedMatchesTests(TestCase):
    def test_a_slice_is_the_cards_in_rank_order_and_never_a_feature_gone_from_view(self):
        section = make_section()
        first, second, third = (make_feature(section=section) for _ in range(3))
        matches = RankedMatches([third.pk, first.pk, second.pk])
        assert len(matches) == 3
        assert [card.pk for card in matches[0:3]] == [third.pk, first.pk, second.pk]
        assert matches.count() == 3
        with self.assertRaises(TypeError):
            matches[1]
        Feature.objects.filter(pk=third.pk).update(status=Status.DRAFT)
        assert [card.pk for card in matches[0:2]] == [first.pk]


class PlainRowTests(TestCase):
    def test_plain_get_gives_a_saved_instance_or_none(self):
        make_feature("Tagged", tags=["Wards"])
        tag = plain_get(Tag, ("id", "name", "slug"), "slug", "wards")
        assert tag == Tag.objects.get(slug="wards")
        assert (tag.name, tag.slug, tag._state.adding) == ("Wards", "wards", False)
        assert plain_get(Tag, ("id", "name", "slug"), "slug", "no-such-tag") is None
        # Fields in any order, or only some of them (the rest read when first used).
        assert plain_get(Tag, ("slug", "id", "name"), "slug", "wards").name == "Wards"
        partial = plain_get(Tag, ("slug", "id"), "slug", "wards")
        assert partial.get_deferred_fields() == {"name"}
        assert partial.name == "Wards"
        with self.assertRaisesMessage(ValueError, "Tag has no column named pk"):
            plain_get(Tag, ("pk", "name"), "slug", "wards")

    def test_plain_rows_without_a_key_reads_every_row_in_order(self):
        for name, position in [("Zoo", 1), ("News", 2), ("Arts", 2)]:
            make_section(name, position=position)
        rows = plain_rows(Section, ("name", "slug"), order_by=("position", "name"))
        ordered = Section.objects.order_by("position", "name")
        assert rows == list(ordered.values_list("name", "slug"))
        assert [name for name, _slug in rows] == ["Zoo", "Arts", "News"]
