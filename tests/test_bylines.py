from django.test import SimpleTestCase

from features.bylines import Credit, byline_text, pluralise_title

GOUGH = Credit("Pippa Gough", "Assistant Director in Clinical Quality", "The Health Foundation")
MASTERSON = Credit(
    "Abigail Masterson", "Assistant Director in Clinical Quality", "The Health Foundation"
)


class BylineWordingTests(SimpleTestCase):
    def test_one_author_with_role(self):
        assert byline_text([GOUGH]) == (
            "Pippa Gough, Assistant Director in Clinical Quality at the Health Foundation"
        )

    def test_one_author_without_role(self):
        assert byline_text([Credit("Jordan Ellis")]) == "Jordan Ellis"

    def test_two_authors_sharing_a_role_say_it_once_in_the_plural(self):
        assert byline_text([GOUGH, MASTERSON]) == (
            "Pippa Gough and Abigail Masterson, "
            "Assistant Directors in Clinical Quality at the Health Foundation"
        )

    def test_three_authors_sharing_a_role(self):
        credits = [Credit(name, "Staff Writer") for name in ["Ann Lee", "Bo Ma", "Cy Ng"]]
        assert byline_text(credits) == "Ann Lee, Bo Ma and Cy Ng, Staff Writers"

    def test_three_authors_without_roles(self):
        credits = [Credit("Ann Lee"), Credit("Bo Ma"), Credit("Cy Ng")]
        assert byline_text(credits) == "Ann Lee, Bo Ma and Cy Ng"

    def test_two_authors_with_different_roles_each_follow_their_name(self):
        credits = [Credit("Ann Lee", "Editor"), Credit("Bo Ma", "Medical Director", "NHS Fife")]
        assert byline_text(credits) == "Ann Lee, Editor, and Bo Ma, Medical Director at NHS Fife"

    def test_three_authors_with_different_roles_are_separated_by_semicolons(self):
        credits = [
            Credit("Ann Lee", "Editor"),
            Credit("Bo Ma", "Policy Adviser"),
            Credit("Cy Ng", "Head of News"),
        ]
        assert byline_text(credits) == (
            "Ann Lee, Editor; Bo Ma, Policy Adviser; and Cy Ng, Head of News"
        )

    def test_a_shared_role_among_some_co_authors_is_grouped(self):
        credits = [GOUGH, MASTERSON, Credit("Morgan Price", "Head of Communications")]
        assert byline_text(credits) == (
            "Pippa Gough and Abigail Masterson, Assistant Directors in Clinical Quality "
            "at the Health Foundation, and Morgan Price, Head of Communications"
        )

    def test_one_author_with_role_and_one_without(self):
        credits = [Credit("Ann Lee", "Editor"), Credit("Bo Ma")]
        assert byline_text(credits) == "Ann Lee, Editor, and Bo Ma"

    def test_no_authors_is_empty(self):
        assert byline_text([]) == ""


class PluralTests(SimpleTestCase):
    def test_head_noun_before_a_preposition_is_pluralised(self):
        assert pluralise_title("Head of News") == "Heads of News"
        assert pluralise_title("Director in Clinical Quality") == "Directors in Clinical Quality"

    def test_last_word_is_pluralised_when_there_is_no_preposition(self):
        assert pluralise_title("Chief Executive") == "Chief Executives"
        assert pluralise_title("Policy Adviser") == "Policy Advisers"

    def test_titles_with_a_comma_hyphens_or_a_following_adjective(self):
        assert pluralise_title("Director, Clinical Quality") == "Directors, Clinical Quality"
        assert pluralise_title("Editor-in-Chief") == "Editors-in-Chief"
        assert pluralise_title("Director General") == "Directors General"
        assert pluralise_title("Chair-elect") == "Chairs-elect"

    def test_spelling_rules(self):
        assert pluralise_title("Deputy") == "Deputies"
        assert pluralise_title("Coach") == "Coaches"
        assert pluralise_title("Chairman") == "Chairmen"
        assert pluralise_title("Attorney") == "Attorneys"
