from datetime import UTC, datetime

from django.test import TestCase
from django.utils.formats import date_format

from features.cards import as_cards, credits_by_feature, tags_by_feature
from features.models import Byline, Feature, Status
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
        assert (self.card(self.feature).published_iso, self.card(self.feature).published_text) == (
            "2009-03-24", "24 March 2009",
        )  # fmt: skip
        # 23:30 UTC on 30 June is 00:30 on 1 July in London (BST).
        assert self.card(self.summer).published_text == "1 July 2009"
        assert self.card(self.summer).published_text == date_format(
            datetime(2009, 7, 1).date(), "j F Y"
        )

    def test_a_card_uses_the_byline_role_frozen_at_publication(self):
        byline = Byline.objects.filter(feature=self.feature).first()
        Byline.objects.filter(pk=byline.pk).update(
            job_title="Editor", organisation="", role_frozen=True
        )
        byline.author.__class__.objects.filter(pk=byline.author_id).update(job_title="Chair")
        assert self.card(self.feature).byline == Feature.objects.get(pk=self.feature.pk).byline
        assert "Pippa Gough, Editor" in self.card(self.feature).byline

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
        assert matches[1].pk == first.pk
        Feature.objects.filter(pk=third.pk).update(status=Status.DRAFT)
        assert [card.pk for card in matches[0:2]] == [first.pk]
