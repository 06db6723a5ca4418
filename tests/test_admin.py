import re
from datetime import timedelta

from django.db import connection
from django.db.models import F
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from reversion.models import Version
from taggit.models import Tag

from features import workflow
from features.models import Author, Feature, Status, TaggedFeature, Transition
from tests.factories import change_form_data, make_author, make_feature, make_section, make_user


def change_url(feature):
    return reverse("admin:features_feature_change", args=[feature.pk])


class EditConflictTests(TestCase):
    """Two editors open the same feature; the second save must not overwrite the first."""

    @classmethod
    def setUpTestData(cls):
        cls.alice = make_user("alice", group="Editors", first_name="Alice", last_name="Adams")
        cls.bob = make_user("bob", group="Editors")
        cls.feature = make_feature(
            "Original title", status=Status.DRAFT, authors=[make_author("Ann Lee")],
            body="<p>Original body.</p>",
        )  # fmt: skip

    def test_stale_save_is_refused_and_both_versions_are_shown(self):
        url = change_url(self.feature)
        self.client.force_login(self.alice)
        alice_form = change_form_data(self.client, url)
        self.client.force_login(self.bob)
        bob_form = change_form_data(self.client, url)

        alice_form["title"] = "Alice's title"
        self.client.force_login(self.alice)
        response = self.client.post(url, alice_form)
        assert response.status_code == 302

        bob_form["title"] = "Bob's title"
        bob_form["body"] = "<p>Bob rewrote the body at length.</p>"
        self.client.force_login(self.bob)
        response = self.client.post(url, bob_form)

        assert response.status_code == 409
        self.assertContains(response, "not saved", status_code=409)
        self.assertContains(response, "Alice Adams", status_code=409)
        self.assertContains(response, "Alice&#x27;s title", status_code=409)
        self.assertContains(response, "Bob&#x27;s title", status_code=409)
        # Bob's long text is there to copy.
        self.assertContains(response, "Bob rewrote the body at length.", status_code=409)
        self.feature.refresh_from_db()
        assert self.feature.title == "Alice's title"
        assert self.feature.body == "<p>Original body.</p>"

    def test_conflict_page_marks_the_fields_that_differ(self):
        url = change_url(self.feature)
        self.client.force_login(self.bob)
        stale = change_form_data(self.client, url)
        Feature.objects.filter(pk=self.feature.pk).update(version=self.feature.version + 1)
        stale["standfirst"] = "A new standfirst"
        response = self.client.post(url, stale)
        rows = {row["name"]: row for row in response.context["rows"]}
        assert rows["standfirst"]["differs"] and not rows["title"]["differs"]
        assert rows["standfirst"]["yours"] == "A new standfirst"

    def test_save_with_the_current_version_succeeds_and_bumps_it(self):
        url = change_url(self.feature)
        self.client.force_login(self.alice)
        data = change_form_data(self.client, url)
        data["title"] = "Updated"
        assert self.client.post(url, data).status_code == 302
        self.feature.refresh_from_db()
        assert self.feature.title == "Updated"
        assert self.feature.version == 2

    def test_a_transition_between_opening_and_saving_is_a_conflict(self):
        url = change_url(self.feature)
        self.client.force_login(self.alice)
        data = change_form_data(self.client, url)
        workflow.submit(self.feature, by=self.bob)
        data["title"] = "Edited after submission"
        response = self.client.post(url, data)
        assert response.status_code == 409
        self.feature.refresh_from_db()
        assert self.feature.title == "Original title"

    def test_a_race_after_the_check_is_still_caught(self):
        """The version check in save_model is one conditional UPDATE: a race loses."""
        from features.admin import FeatureAdmin

        url = change_url(self.feature)
        self.client.force_login(self.alice)
        data = change_form_data(self.client, url)
        data["title"] = "Racing edit"
        original_save = FeatureAdmin.save_model

        def racing_save(model_admin, request, obj, form, change):
            Feature.objects.filter(pk=obj.pk).update(version=99)
            return original_save(model_admin, request, obj, form, change)

        FeatureAdmin.save_model = racing_save
        try:
            response = self.client.post(url, data)
        finally:
            FeatureAdmin.save_model = original_save
        assert response.status_code == 409
        self.feature.refresh_from_db()
        assert self.feature.title == "Original title"


class MajorAndMinorChangeTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = make_user(group="Editors")
        cls.feature = make_feature("Published piece", authors=[make_author()])

    def setUp(self):
        self.client.force_login(self.editor)
        self.url = change_url(self.feature)

    def test_editing_a_published_feature_asks_for_a_change_note(self):
        data = change_form_data(self.client, self.url)
        data["standfirst"] = "A corrected standfirst."
        response = self.client.post(self.url, data)
        assert response.status_code == 200
        assert "update_note" in response.context["adminform"].form.errors
        # What the editor typed is still in the form.
        self.assertContains(response, "A corrected standfirst.")
        self.feature.refresh_from_db()
        assert self.feature.standfirst != "A corrected standfirst."

    def test_major_change_updates_the_last_updated_date_shown_to_readers(self):
        data = change_form_data(self.client, self.url)
        data["standfirst"] = "A corrected standfirst."
        data["update_note"] = "Corrected the standfirst"
        assert self.client.post(self.url, data).status_code == 302
        self.feature.refresh_from_db()
        assert self.feature.last_major_update_at is not None
        page = self.client.get(self.feature.get_absolute_url())
        self.assertContains(page, "Updated")
        self.assertContains(page, "Corrected the standfirst")

    def test_minor_change_leaves_the_date_alone(self):
        data = change_form_data(self.client, self.url)
        data["standfirst"] = "Fixed a typo."
        data["minor_change"] = "on"
        assert self.client.post(self.url, data).status_code == 302
        self.feature.refresh_from_db()
        assert self.feature.standfirst == "Fixed a typo."
        assert self.feature.last_major_update_at is None


class HistoryTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = make_user(group="Editors")
        cls.feature = make_feature("First title", status=Status.DRAFT, authors=[make_author()])

    def setUp(self):
        self.client.force_login(self.editor)
        self.url = change_url(self.feature)
        for title in ["Second title", "Third title"]:
            data = change_form_data(self.client, self.url)
            data["title"] = title
            assert self.client.post(self.url, data).status_code == 302

    def versions(self):
        return list(Version.objects.get_for_object(self.feature))

    def test_every_save_is_kept(self):
        assert [v.field_dict["title"] for v in self.versions()] == ["Third title", "Second title"]

    def test_history_page_lists_versions_with_compare_choices(self):
        url = reverse("admin:features_feature_history", args=[self.feature.pk])
        response = self.client.get(url)
        self.assertContains(response, "Compare the chosen versions")
        assert response.content.decode().count('name="a"') == 2

    def test_two_versions_are_compared_field_by_field(self):
        newer, older = self.versions()
        response = self.client.get(
            reverse("admin:features_feature_compare", args=[self.feature.pk]),
            {"a": older.pk, "b": newer.pk},
        )
        self.assertContains(response, "<del>Second</del>", html=True)
        self.assertContains(response, "<ins>Third</ins>", html=True)

    def test_compare_with_bad_parameters_is_404(self):
        url = reverse("admin:features_feature_compare", args=[self.feature.pk])
        other = make_feature("Other", status=Status.DRAFT, authors=[make_author()])
        other_url = change_url(other)
        data = change_form_data(self.client, other_url)
        data["title"] = "Other, saved"
        assert self.client.post(other_url, data).status_code == 302
        foreign = Version.objects.get_for_object(other).first()
        mine = self.versions()[0]
        for params in [
            {}, {"a": "x", "b": "1"}, {"a": "999999", "b": "999998"}, {"a": "²", "b": "1"},
            {"a": "9" * 30, "b": "1"}, {"a": mine.pk, "b": foreign.pk},
        ]:  # fmt: skip
            with self.subTest(params=params):
                assert self.client.get(url, params).status_code == 404

    def test_revert_restores_old_text_and_is_itself_recorded(self):
        older = self.versions()[-1]
        revert_url = reverse("admin:features_feature_revision", args=[self.feature.pk, older.pk])
        response = self.client.get(revert_url)
        assert response.status_code == 200
        data = change_form_data(self.client, revert_url)
        assert data["title"] == "Second title"
        assert self.client.post(revert_url, data).status_code == 302
        self.feature.refresh_from_db()
        assert self.feature.title == "Second title"
        latest = self.versions()[0]
        assert latest.field_dict["title"] == "Second title"
        assert "Reverted" in latest.revision.get_comment()

    def test_revert_never_changes_the_status(self):
        older = self.versions()[-1]
        workflow.submit(self.feature, by=self.editor)
        self.feature.refresh_from_db()
        revert_url = reverse("admin:features_feature_revision", args=[self.feature.pk, older.pk])
        data = change_form_data(self.client, revert_url)
        assert self.client.post(revert_url, data).status_code == 302
        self.feature.refresh_from_db()
        assert self.feature.title == "Second title"  # the revert happened...
        assert self.feature.status == Status.IN_REVIEW  # ...and the workflow state stayed

    def test_a_stale_revert_shows_the_conflict_page(self):
        older = self.versions()[-1]
        revert_url = reverse("admin:features_feature_revision", args=[self.feature.pk, older.pk])
        data = change_form_data(self.client, revert_url)
        Feature.objects.filter(pk=self.feature.pk).update(version=F("version") + 1)
        response = self.client.post(revert_url, data)
        assert response.status_code == 409
        self.feature.refresh_from_db()
        assert self.feature.title == "Third title"

    def test_bad_revision_addresses_are_404(self):
        for url in [
            f"/admin/features/feature/abc/history/{self.versions()[0].pk}/",
            f"/admin/features/feature/{self.feature.pk}/history/999999/",
        ]:
            with self.subTest(url=url):
                assert self.client.get(url).status_code == 404

    def test_deleted_features_cannot_be_recovered_around_the_workflow(self):
        from django.urls import NoReverseMatch

        with self.assertRaises(NoReverseMatch):
            reverse("admin:features_feature_recoverlist")
        response = self.client.get("/admin/features/feature/recover/", follow=True)
        assert response.redirect_chain[-1][0] == reverse("admin:index")


class ChangelistTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = make_user(group="Editors")
        cls.section = make_section("News")
        cls.authors = [make_author("Ann Lee"), make_author("Bo Ma")]

    def add(self, count):
        for _ in range(count):
            feature = make_feature(section=self.section, authors=self.authors, tags=["x"])
            Feature.objects.filter(pk=feature.pk).update(last_edited_by=self.editor)

    def count(self, url):
        with CaptureQueriesContext(connection) as queries:
            assert self.client.get(url).status_code == 200
        return len(queries)

    def test_changelist_query_count_is_flat_from_3_to_30_features(self):
        self.client.force_login(self.editor)
        url = reverse("admin:features_feature_changelist")
        self.add(3)
        small = self.count(url)
        self.add(27)
        assert self.count(url) == small

    def test_changelist_names_each_features_authors_in_order(self):
        self.client.force_login(self.editor)
        self.add(2)
        response = self.client.get(reverse("admin:features_feature_changelist"))
        assert response.content.decode().count("Ann Lee, Bo Ma") == 2

    def test_changelist_shows_scheduled_time_with_its_zone(self):
        self.client.force_login(self.editor)
        make_feature("Soon", section=self.section, publish_at=timezone.now() + timedelta(days=2))
        response = self.client.get(reverse("admin:features_feature_changelist"))
        pattern = r"Scheduled for \d{1,2} \w+ \d{4}, \d\d:\d\d (GMT|BST)"
        assert re.search(pattern, response.content.decode())

    def test_filters(self):
        self.client.force_login(self.editor)
        now = timezone.now()
        scheduled = make_feature("Later", section=self.section, publish_at=now + timedelta(days=1))
        last_week = now.date() - timedelta(days=7)
        overdue = make_feature("Old", section=self.section, review_by=last_week)
        forced = make_feature("Forced", section=self.section, needs_approval=True)
        draft = make_feature("Draft one", section=self.section, status=Status.DRAFT)
        url = reverse("admin:features_feature_changelist")
        cases = {
            "state=scheduled": [scheduled],
            "review=overdue": [overdue],
            "approval=needed": [forced],
            "state=draft": [draft],
        }
        for query, expected in cases.items():
            with self.subTest(query=query):
                response = self.client.get(f"{url}?{query}")
                assert list(response.context["cl"].result_list) == expected

    def test_author_filter_is_one_select_box_that_keeps_the_other_filters(self):
        self.client.force_login(self.editor)
        ann, bo = self.authors
        for index in range(5):
            make_author(f"Guest {index}")
        hers = make_feature("Ann's piece", section=self.section, authors=[ann])
        make_feature("Bo's piece", section=self.section, authors=[bo])
        make_feature("Ann's draft", section=self.section, authors=[ann], status=Status.DRAFT)
        url = reverse("admin:features_feature_changelist")
        response = self.client.get(f"{url}?state=live&author={ann.pk}")
        assert list(response.context["cl"].result_list) == [hers]
        page = response.content.decode()
        select = re.search(r'<select id="author-filter-select" name="author">(.*?)</select>',
                           page, re.S).group(1)  # fmt: skip
        assert select.count("<option") == Author.objects.count() + 1  # and "All authors"
        assert f'<option value="{ann.pk}" selected>Ann Lee</option>' in select
        # The other filters go along as hidden fields, the author's own value does not.
        form = re.search(r'<form method="get" class="author-filter">(.*?)</form>',
                         page, re.S).group(1)  # fmt: skip
        assert '<input type="hidden" name="state" value="live">' in form
        assert 'type="hidden" name="author"' not in form
        assert f"?author={bo.pk}" not in page  # no link per author

    def test_audit_trail_list_is_filterable(self):
        self.client.force_login(self.editor)
        feature = make_feature("Audit me", section=self.section, status=Status.DRAFT,
                               authors=self.authors)  # fmt: skip
        workflow.submit(feature, by=self.editor)
        url = reverse("admin:features_transition_changelist")
        response = self.client.get(url, {"action": "submit"})
        assert [t.feature for t in response.context["cl"].result_list] == [feature]
        assert self.client.get(url, {"action": "publish"}).context["cl"].result_count == 0


class AttentionTests(TestCase):
    def test_admin_index_lists_what_needs_attention_with_links(self):
        editor = make_user(group="Editors")
        writer = make_user(group="Writers")
        now = timezone.now()
        review = make_feature("Waiting for review", status=Status.IN_REVIEW, created_by=writer)
        make_feature("Going live soon", publish_at=now + timedelta(days=2))
        make_feature("Far future", publish_at=now + timedelta(days=30))
        make_feature("Forced through", needs_approval=True)
        make_feature("Stale facts", review_by=now.date() - timedelta(days=1))
        self.client.force_login(editor)
        response = self.client.get(reverse("admin:index"))
        for text in ["Waiting for review", "Going live soon", "Forced through", "Stale facts",
                     "?state=in_review", "?state=scheduled", "?approval=needed",
                     "?review=overdue"]:  # fmt: skip
            self.assertContains(response, text)
        assert re.search(r"Going live soon</a>: \d{1,2} \w+ \d{4}, \d\d:\d\d (GMT|BST)",
                         response.content.decode())  # fmt: skip
        self.assertNotContains(response, "Far future")
        self.assertContains(response, change_url(review))

    def test_a_writer_sees_only_their_own(self):
        writer = make_user(group="Writers")
        make_feature("Mine in review", status=Status.IN_REVIEW, created_by=writer)
        make_feature("Someone else's", status=Status.IN_REVIEW)
        self.client.force_login(writer)
        response = self.client.get(reverse("admin:index"))
        self.assertContains(response, "Mine in review")
        self.assertNotContains(response, "Someone else&#x27;s")


class AdminTimeZoneTests(TestCase):
    def test_every_time_on_the_change_form_names_its_zone(self):
        editor = make_user(group="Editors")
        feature = make_feature("Timed", authors=[make_author()], review_by=timezone.localdate())
        workflow.unpublish(feature, by=editor)
        feature.refresh_from_db()
        workflow.publish(feature, by=make_user(group="Editors"))
        self.client.force_login(editor)
        html = self.client.get(change_url(feature)).content.decode()
        times = re.findall(r"\d{1,2} \w+ \d{4}, \d\d:\d\d( GMT| BST)?", html)
        assert len(times) >= 4  # publish, first published, two log entries
        assert all(times), "a time without its zone"

    def test_transition_log_is_shown_newest_first(self):
        editor = make_user(group="Editors")
        other = make_user(group="Editors")
        feature = make_feature("Logged", status=Status.DRAFT, authors=[make_author()])
        workflow.submit(feature, by=editor)
        workflow.send_back(feature, by=other, comment="Needs a better ending")
        self.client.force_login(editor)
        html = self.client.get(change_url(feature)).content.decode()
        log = html[html.index("What has happened") :]
        assert log.index("Send back") < log.index("Submit for review")
        assert Transition.objects.filter(feature=feature).count() == 2


class FeatureFormTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = make_user(group="Editors")
        cls.feature = make_feature("Tagged", status=Status.DRAFT, authors=[make_author()])

    def setUp(self):
        self.client.force_login(self.editor)
        self.url = change_url(self.feature)

    def test_new_tags_are_created_and_existing_ones_kept(self):
        make_feature("Other", tags=["Existing"])
        from taggit.models import Tag

        data = change_form_data(self.client, self.url)
        data["tags"] = [str(Tag.objects.get(name="Existing").pk)]
        data["new_tags"] = "Fresh idea, Another, Fresh idea"
        assert self.client.post(self.url, data).status_code == 302
        names = sorted(tag.name for tag in Feature.objects.get(pk=self.feature.pk).tags.all())
        assert names == ["Another", "Existing", "Fresh idea"]

    def test_a_tag_without_letters_is_a_form_error_and_nothing_is_lost(self):
        data = change_form_data(self.client, self.url)
        data["new_tags"] = "!!!"
        data["standfirst"] = "Typed before the mistake"
        response = self.client.post(self.url, data)
        assert response.status_code == 200
        assert "new_tags" in response.context["adminform"].form.errors
        self.assertContains(response, "Typed before the mistake")

    def test_hero_image_without_alt_text_is_a_form_error(self):
        from django.core.files.uploadedfile import SimpleUploadedFile

        from tests.factories import jpeg_bytes

        data = change_form_data(self.client, self.url)
        data["hero_image"] = SimpleUploadedFile("pic.jpg", jpeg_bytes(), "image/jpeg")
        data["hero_image_alt"] = ""
        response = self.client.post(self.url, data)
        assert response.status_code == 200
        self.assertContains(response, "Describe the hero image in its alt text.")
        assert not Feature.objects.get(pk=self.feature.pk).hero_image


class OriginalDateTests(TestCase):
    """A draft imported from an old site can be published under its original date."""

    def test_publish_offers_and_keeps_the_original_date(self):
        from datetime import UTC, datetime

        editor = make_user(group="Editors")
        original = datetime(2008, 6, 1, 8, 30, tzinfo=UTC)
        feature = make_feature(
            "Imported", status=Status.DRAFT, publish_at=original, authors=[make_author()]
        )
        self.client.force_login(editor)
        url = reverse("admin:features_feature_workflow", args=[feature.pk, "publish"])
        self.assertContains(self.client.get(url), "On its original date, 1 June 2008, 09:30 BST")
        response = self.client.post(url, {"version": feature.version, "when": "original"})
        assert response.status_code == 302
        feature.refresh_from_db()
        assert feature.is_live
        assert feature.first_published_at == original == feature.publish_at

    def test_an_unpublished_feature_is_not_offered_its_old_date(self):
        editor, other = make_user(group="Editors"), make_user(group="Editors")
        feature = make_feature("Was live", authors=[make_author()])
        workflow.unpublish(feature, by=editor)
        self.client.force_login(other)
        url = reverse("admin:features_feature_workflow", args=[feature.pk, "publish"])
        self.assertNotContains(self.client.get(url), "On its original date")


class ReviewFindingsTests(TestCase):
    """Edges of the workflow found in review: each was a way to lose or leak something."""

    @classmethod
    def setUpTestData(cls):
        cls.editor = make_user("ed", group="Editors")
        cls.other_editor = make_user("other", group="Editors")
        cls.writer = make_user("wri", group="Writers")
        cls.author = make_author("Ann Lee", job_title="Writer", organisation="The Trust")

    def test_conflict_page_shows_byline_roles_typed_in_the_inline(self):
        feature = make_feature("Roles", status=Status.DRAFT, authors=[self.author])
        self.client.force_login(self.editor)
        data = change_form_data(self.client, change_url(feature))
        Feature.objects.filter(pk=feature.pk).update(version=F("version") + 1)
        data["bylines-0-job_title"] = "Guest Editor"
        response = self.client.post(change_url(feature), data)
        assert response.status_code == 409
        self.assertContains(response, "Ann Lee (Guest Editor", status_code=409)
        self.assertContains(response, "not saved either", status_code=409)

    def test_a_writer_whose_draft_was_submitted_meanwhile_sees_their_text(self):
        feature = make_feature(
            "Writer's draft", status=Status.DRAFT, created_by=self.writer, authors=[self.author]
        )
        self.client.force_login(self.writer)
        data = change_form_data(self.client, change_url(feature))
        data["body"] = "<p>My careful new paragraph.</p>"
        workflow.submit(feature, by=self.editor)
        response = self.client.post(change_url(feature), data)
        assert response.status_code == 409
        self.assertContains(response, "My careful new paragraph.", status_code=409)

    def test_reverting_a_published_feature_is_a_major_change(self):
        feature = make_feature("Claim", body="<p>Original claim.</p>", authors=[self.author])
        self.client.force_login(self.editor)
        data = change_form_data(self.client, change_url(feature))
        data.update(body="<p>Corrected claim.</p>", update_note="Corrected the claim")
        assert self.client.post(change_url(feature), data).status_code == 302
        data = change_form_data(self.client, change_url(feature))
        data.update(body="<p>Corrected again.</p>", update_note="Second correction")
        assert self.client.post(change_url(feature), data).status_code == 302
        older = Version.objects.get_for_object(feature)[1]
        revert_url = reverse("admin:features_feature_revision", args=[feature.pk, older.pk])
        data = change_form_data(self.client, revert_url)
        response = self.client.post(revert_url, data)
        assert response.status_code == 200  # refused: a note is needed
        assert "update_note" in response.context["adminform"].form.errors
        data["update_note"] = "Restored the first correction"
        assert self.client.post(revert_url, data).status_code == 302
        feature.refresh_from_db()
        assert feature.body == "<p>Corrected claim.</p>"
        assert feature.change_note == "Restored the first correction"

    def test_a_revert_keeps_byline_roles_fixed_at_publication(self):
        feature = make_feature("Roles kept", status=Status.DRAFT, authors=[self.author])
        self.client.force_login(self.editor)
        data = change_form_data(self.client, change_url(feature))
        data["title"] = "Roles kept (draft 2)"
        assert self.client.post(change_url(feature), data).status_code == 302
        workflow.submit(feature, by=self.other_editor)
        workflow.publish(feature, by=self.editor)
        self.author.job_title = "Chief Executive"
        self.author.save()
        older = Version.objects.get_for_object(feature).last()
        revert_url = reverse("admin:features_feature_revision", args=[feature.pk, older.pk])
        data = change_form_data(self.client, revert_url)
        data["update_note"] = "Back to the first title"
        assert self.client.post(revert_url, data).status_code == 302
        assert Feature.objects.get(pk=feature.pk).byline == "Ann Lee, Writer at the Trust"

    def test_a_scheduled_feature_cannot_be_withdrawn_only_unpublished(self):
        feature = make_feature(
            "Embargoed", publish_at=timezone.now() + timedelta(days=1), authors=[self.author]
        )
        with self.assertRaises(workflow.WorkflowError):
            workflow.withdraw(feature, by=self.editor, notice="Never mind")
        assert self.client.get(feature.get_absolute_url()).status_code == 404

    def test_editing_a_scheduled_feature_asks_for_no_change_note(self):
        feature = make_feature(
            "Not yet out", publish_at=timezone.now() + timedelta(days=1), authors=[self.author]
        )
        self.client.force_login(self.editor)
        data = change_form_data(self.client, change_url(feature))
        data["standfirst"] = "A better standfirst."
        assert self.client.post(change_url(feature), data).status_code == 302
        feature.refresh_from_db()
        assert feature.last_major_update_at is None

    def test_an_editor_cannot_publish_their_own_unsubmitted_draft_alone(self):
        feature = make_feature(
            "Mine", status=Status.DRAFT, created_by=self.editor, authors=[self.author]
        )
        with self.assertRaises(workflow.WorkflowError):
            workflow.publish(feature, by=self.editor)
        workflow.publish(feature, by=self.other_editor)
        assert Feature.objects.get(pk=feature.pk).is_live

    def test_writers_posting_editor_bulk_actions_change_nothing(self):
        feature = make_feature("Live one", authors=[self.author])
        withdrawn = make_feature("Gone one", status=Status.WITHDRAWN)
        self.client.force_login(self.writer)
        url = reverse("admin:features_feature_changelist")
        for action, target in [("approve_selected", feature), ("unpublish_selected", feature),
                               ("restore_selected", withdrawn)]:  # fmt: skip
            with self.subTest(action=action):
                before = Feature.objects.filter(pk=target.pk).values().get()
                self.client.post(url, {"action": action, "_selected_action": [target.pk]})
                assert Feature.objects.filter(pk=target.pk).values().get() == before

    def test_published_features_cannot_be_deleted_from_the_admin(self):
        feature = make_feature("Out there", authors=[self.author])
        self.client.force_login(self.editor)
        url = reverse("admin:features_feature_delete", args=[feature.pk])
        assert self.client.post(url, {"post": "yes"}).status_code == 403
        workflow.unpublish(feature, by=self.editor)
        assert self.client.post(url, {"post": "yes"}).status_code == 403  # it was published
        assert Feature.objects.filter(pk=feature.pk).exists()

    def test_bad_filter_values_are_not_errors(self):
        self.client.force_login(self.editor)
        url = reverse("admin:features_feature_changelist")
        for query in ["author=" + "9" * 30, "author=²", "state=nonsense"]:
            with self.subTest(query=query):
                assert self.client.get(f"{url}?{query}").status_code in {200, 302}

    def test_scheduling_far_in_the_future_is_a_form_error(self):
        feature = make_feature("Far", status=Status.IN_REVIEW, authors=[self.author],
                               submitted_by=self.writer)  # fmt: skip
        self.client.force_login(self.editor)
        url = reverse("admin:features_feature_workflow", args=[feature.pk, "publish"])
        response = self.client.post(url, {
            "version": feature.version, "when": "later",
            "publish_at_0": "31/12/9999", "publish_at_1": "09:00",
        })  # fmt: skip
        assert response.status_code == 400
        self.assertContains(response, "five years", status_code=400)
        assert Feature.objects.get(pk=feature.pk).status == Status.IN_REVIEW

    def test_conflict_with_tampered_ids_is_not_an_error(self):
        feature = make_feature("Tamper", status=Status.DRAFT, authors=[self.author])
        self.client.force_login(self.editor)
        data = change_form_data(self.client, change_url(feature))
        data.update({"base_version": "0", "section": "abc", "downloads": ["x"],
                     "bylines-TOTAL_FORMS": "²", "tags": ["abc"]})  # fmt: skip
        assert self.client.post(change_url(feature), data).status_code == 409


class TagMergeTests(TestCase):
    """The tag admin's merge works on features' tags (TaggedFeature), not taggit's table."""

    @classmethod
    def setUpTestData(cls):
        cls.editor = make_user("merger", group="Editors")
        cls.both = make_feature("Both", tags=["Estates", "Buildings"])
        cls.one = make_feature("One", tags=["Buildings"])
        cls.other = make_feature("Other", tags=["Policy"])

    def test_merging_moves_each_feature_once_and_leaves_the_rest(self):
        self.client.force_login(self.editor)
        chosen = [str(Tag.objects.get(name=name).pk) for name in ["Estates", "Buildings"]]
        response = self.client.post(
            "/admin/taggit/tag/", {"action": "render_tag_form", "_selected_action": chosen}
        )
        assert response.status_code == 302
        form = self.client.get("/admin/taggit/tag/merge-tags/")
        assert form.status_code == 200
        response = self.client.post("/admin/taggit/tag/merge-tags/", {"new_tag_name": "Estates"})
        assert response.status_code == 302
        assert sorted(self.both.tags.names()) == ["Estates"]
        assert sorted(self.one.tags.names()) == ["Estates"]
        assert sorted(self.other.tags.names()) == ["Policy"]
        assert not TaggedFeature.objects.filter(tag__name="Buildings").exists()
        assert b"One" in self.client.get("/tags/estates/").content
