"""The editorial workflow through the admin, over HTTP: who may do what, and what it does."""

import xml.etree.ElementTree as ET
from datetime import timedelta

from django.contrib.messages import constants as message_levels
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from features import workflow
from features.models import Feature, Status, Transition
from tests.factories import (
    change_form_data,
    make_author,
    make_feature,
    make_section,
    make_user,
)  # fmt: skip

# The design's table ("Editorial workflow"), written out again here so that the tests check
# features/workflow.py against it rather than against itself.
ROLES = ["owner", "other_writer", "submitter", "other_editor"]
EDITORS = {"submitter", "other_editor"}

# Source states: a status, plus whether the feature was force-published and awaits approval.
STATES = {
    "draft": {"status": Status.DRAFT},
    "in_review": {"status": Status.IN_REVIEW},
    "published": {"status": Status.PUBLISHED},
    "force_published": {"status": Status.PUBLISHED, "needs_approval": True},
    "withdrawn": {"status": Status.WITHDRAWN, "withdrawal_notice": "Withdrawn earlier."},
}

TARGETS = {
    "submit": Status.IN_REVIEW,
    "send_back": Status.DRAFT,
    "publish": Status.PUBLISHED,
    "force_publish": Status.PUBLISHED,
    "approve": Status.PUBLISHED,
    "unpublish": Status.DRAFT,
    "withdraw": Status.WITHDRAWN,
    "restore": Status.DRAFT,
}

# (action, state) -> the roles that may take it. Everything not listed is refused.
ALLOWED = {
    ("submit", "draft"): {"owner", *EDITORS},
    ("send_back", "in_review"): EDITORS,
    ("publish", "draft"): {"other_editor"},
    ("publish", "in_review"): {"other_editor"},
    ("force_publish", "draft"): {"submitter"},
    ("force_publish", "in_review"): {"submitter"},
    ("approve", "force_published"): {"other_editor"},
    ("unpublish", "published"): EDITORS,
    ("unpublish", "force_published"): EDITORS,
    ("withdraw", "published"): EDITORS,
    ("withdraw", "force_published"): EDITORS,
    ("restore", "withdrawn"): EDITORS,
}

SOURCE_STATUSES = {
    action: {STATES[state]["status"] for (name, state) in ALLOWED if name == action}
    for action in TARGETS
}

MATRIX = [(role, action, state) for role in ROLES for action in TARGETS for state in STATES]


def is_allowed(role, action, state):
    return role in ALLOWED.get((action, state), set())


def refusal_hint(role, action, state):
    """A word the refusal message must contain to tell the user why."""
    status = STATES[state]["status"]
    if status not in SOURCE_STATUSES[action]:
        return Status(status).label.lower()
    if role not in EDITORS:
        return "own" if action == "submit" else "editor"
    if action == "approve" and not STATES[state].get("needs_approval"):
        return "approval"
    return "editor"


def change_url(feature):
    return reverse("admin:features_feature_change", args=[feature.pk])


def workflow_url(feature, action):
    return reverse("admin:features_feature_workflow", args=[feature.pk, action])


def changelist_url():
    return reverse("admin:features_feature_changelist")


def transition_data(feature, comment="", **extra):
    data = {"version": feature.version, "comment": comment}
    return {**data, **extra}


def snapshot(feature):
    """What a refused request must leave as it was."""
    row = Feature.objects.get(pk=feature.pk)
    return {
        "status": row.status,
        "version": row.version,
        "publish_at": row.publish_at,
        "needs_approval": row.needs_approval,
        "withdrawn_at": row.withdrawn_at,
        "title": row.title,
        "transitions": Transition.objects.filter(feature=feature).count(),
    }


def messages_of(response, level=None):
    return [
        str(message)
        for message in response.context["messages"]
        if level is None or message.level == level
    ]


def local_date_and_time(moment):
    """The two halves of the admin's split date/time field, as an en-GB editor types them."""
    local = timezone.localtime(moment)
    return local.strftime("%d/%m/%Y"), local.strftime("%H:%M:%S")


def rss_links(client):
    response = client.get(reverse("feeds:latest-rss"))
    assert response.status_code == 200
    return [item.findtext("link") for item in ET.fromstring(response.content).iter("item")]


def public_places(feature):
    """Where an anonymous reader can find the feature right now."""
    client = Client()
    path = feature.get_absolute_url()
    found = set()
    if client.get(path).status_code == 200:
        found.add("page")
    pages = {
        "home": reverse("features:home"),
        "list": reverse("features:list"),
        "section": feature.section.get_absolute_url(),
        "search": reverse("features:search") + "?q=" + feature.title.split()[0],
    }
    for name, url in pages.items():
        if f'href="{path}"' in client.get(url).content.decode():
            found.add(name)
    if any(link.endswith(path) for link in rss_links(client)):
        found.add("feed")
    if path in client.get("/sitemap.xml").content.decode():
        found.add("sitemap")
    return found


EVERYWHERE = {"page", "home", "list", "section", "search", "feed", "sitemap"}


class RoleTransitionMatrixTests(TestCase):
    """Every role × action × source state, posted to the workflow page."""

    @classmethod
    def setUpTestData(cls):
        cls.users = {
            "owner": make_user("owner", group="Writers"),
            "other_writer": make_user("other-writer", group="Writers"),
            "submitter": make_user("submitter", group="Editors"),
            "other_editor": make_user("other-editor", group="Editors"),
        }
        cls.owner_author = make_author("Olive Owner", user=cls.users["owner"])
        cls.section = make_section("Features")

    def make_feature_in(self, state):
        """A feature the owner wrote and the submitting editor last submitted."""
        return make_feature(
            section=self.section,
            authors=[self.owner_author],
            created_by=self.users["owner"],
            submitted_by=self.users["submitter"],
            **STATES[state],
        )

    def post_action(self, role, feature, action, **extra):
        self.client.force_login(self.users[role])
        data = transition_data(feature, comment=f"{role} says {action}", when="now", **extra)
        return self.client.post(workflow_url(feature, action), data, follow=True)

    def test_the_table_names_every_workflow_action(self):
        assert set(TARGETS) == set(workflow.ACTIONS)

    def test_allowed_transitions_change_the_status_and_are_recorded(self):
        for role, action, state in MATRIX:
            if not is_allowed(role, action, state):
                continue
            with self.subTest(role=role, action=action, state=state):
                feature = self.make_feature_in(state)
                before = snapshot(feature)
                response = self.post_action(role, feature, action)

                assert response.redirect_chain == [(change_url(feature), 302)]
                assert messages_of(response, message_levels.SUCCESS)
                assert not messages_of(response, message_levels.ERROR)
                feature.refresh_from_db()
                assert feature.status == TARGETS[action]
                assert feature.version == before["version"] + 1
                assert feature.last_edited_by == self.users[role]
                if action == "approve":
                    assert not feature.needs_approval
                recorded = Transition.objects.get(feature=feature)
                assert recorded.actor == self.users[role]
                assert recorded.action == action
                assert recorded.from_status == STATES[state]["status"]
                assert recorded.to_status == TARGETS[action]
                assert recorded.comment == f"{role} says {action}"

    def test_refused_transitions_change_nothing_and_say_why(self):
        for role, action, state in MATRIX:
            if is_allowed(role, action, state):
                continue
            with self.subTest(role=role, action=action, state=state):
                feature = self.make_feature_in(state)
                before = snapshot(feature)
                # Posted by hand: the button is not shown, the server must still refuse.
                response = self.post_action(role, feature, action)

                assert snapshot(feature) == before
                assert not messages_of(response, message_levels.SUCCESS)
                errors = messages_of(response, message_levels.ERROR)
                assert len(errors) == 1, errors
                assert refusal_hint(role, action, state) in errors[0].lower(), errors[0]

    def test_change_page_offers_exactly_the_allowed_buttons(self):
        for role in ROLES:
            for state in STATES:
                with self.subTest(role=role, state=state):
                    feature = self.make_feature_in(state)
                    self.client.force_login(self.users[role])
                    html = self.client.get(change_url(feature)).content.decode()
                    shown = {action for action in TARGETS if workflow_url(feature, action) in html}
                    expected = {a for a in TARGETS if is_allowed(role, a, state)}
                    assert shown == expected


class CommentedTransitionTests(TestCase):
    """Send back, withdraw and force publish each need words, and put them where they belong."""

    @classmethod
    def setUpTestData(cls):
        cls.writer = make_user("writer", group="Writers")
        cls.editor = make_user("editor", group="Editors", first_name="Eda", last_name="Stone")
        cls.second_editor = make_user("second-editor", group="Editors")
        cls.author = make_author("Wendy Writer", user=cls.writer)

    def make_feature(self, status, **fields):
        return make_feature(
            "Commented piece", status=status, authors=[self.author], created_by=self.writer,
            **fields,
        )  # fmt: skip

    def test_send_back_without_a_comment_is_refused(self):
        feature = self.make_feature(Status.IN_REVIEW, submitted_by=self.writer)
        before = snapshot(feature)
        self.client.force_login(self.editor)
        response = self.client.post(
            workflow_url(feature, "send_back"), transition_data(feature, comment="  ")
        )
        assert response.status_code == 400
        assert response.context["form"].errors["comment"]
        assert snapshot(feature) == before

    def test_writer_sees_the_send_back_comment_on_their_draft(self):
        feature = self.make_feature(Status.IN_REVIEW, submitted_by=self.writer)
        self.client.force_login(self.editor)
        comment = "The second paragraph needs a source for the 40% figure."
        response = self.client.post(
            workflow_url(feature, "send_back"), transition_data(feature, comment=comment)
        )
        assert response.status_code == 302

        self.client.force_login(self.writer)
        response = self.client.get(change_url(feature))
        self.assertContains(response, "Sent back by Eda Stone")
        self.assertContains(response, "a source for the 40% figure.")

    def test_withdraw_without_a_public_explanation_is_refused(self):
        feature = self.make_feature(Status.PUBLISHED)
        before = snapshot(feature)
        self.client.force_login(self.editor)
        response = self.client.post(workflow_url(feature, "withdraw"), transition_data(feature))
        assert response.status_code == 400
        assert response.context["form"].errors["comment"]
        assert snapshot(feature) == before
        assert Client().get(feature.get_absolute_url()).status_code == 200

    def test_withdrawn_page_answers_410_with_a_dated_notice_and_leaves_every_list(self):
        feature = self.make_feature(Status.PUBLISHED)
        assert public_places(feature) == EVERYWHERE
        self.client.force_login(self.editor)
        notice = "This feature quoted a report that has since been corrected."
        response = self.client.post(
            workflow_url(feature, "withdraw"), transition_data(feature, comment=notice)
        )
        assert response.status_code == 302

        response = Client().get(feature.get_absolute_url())
        assert response.status_code == 410
        self.assertContains(response, notice, status_code=410)
        today = date_format(timezone.localdate(), "j F Y")
        self.assertContains(response, "Withdrawn on <time", status_code=410)
        self.assertContains(response, f">{today}</time>", status_code=410)
        assert public_places(feature) == set()

    def test_force_publish_without_a_reason_is_refused(self):
        feature = self.make_feature(Status.IN_REVIEW, submitted_by=self.editor)
        before = snapshot(feature)
        self.client.force_login(self.editor)
        response = self.client.post(
            workflow_url(feature, "force_publish"), transition_data(feature, when="now")
        )
        assert response.status_code == 400
        assert response.context["form"].errors["comment"]
        assert snapshot(feature) == before

    def test_force_published_feature_needs_approval_by_another_editor(self):
        feature = self.make_feature(Status.IN_REVIEW, submitted_by=self.editor)
        self.client.force_login(self.editor)
        response = self.client.post(
            workflow_url(feature, "force_publish"),
            transition_data(feature, comment="The embargo lifts now.", when="now"),
        )
        assert response.status_code == 302
        feature.refresh_from_db()
        assert feature.status == Status.PUBLISHED and feature.needs_approval
        awaiting = self.client.get(changelist_url() + "?approval=needed")
        assert list(awaiting.context["cl"].result_list) == [feature]
        self.assertContains(self.client.get(change_url(feature)), "needs retrospective approval")

        # The editor who force-published it cannot approve it, even by posting by hand.
        before = snapshot(feature)
        response = self.client.post(
            workflow_url(feature, "approve"), transition_data(feature), follow=True
        )
        assert snapshot(feature) == before
        assert messages_of(response, message_levels.ERROR)

        self.client.force_login(self.second_editor)
        response = self.client.post(workflow_url(feature, "approve"), transition_data(feature))
        assert response.status_code == 302
        feature.refresh_from_db()
        assert not feature.needs_approval
        awaiting = self.client.get(changelist_url() + "?approval=needed")
        assert list(awaiting.context["cl"].result_list) == []
        self.assertNotContains(self.client.get(change_url(feature)), "needs retrospective")


class SchedulingTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.writer = make_user("writer", group="Writers")
        cls.editor = make_user("editor", group="Editors")
        cls.section = make_section("Features")
        cls.author = make_author("Sam Schedule")

    def setUp(self):
        self.feature = make_feature(
            "Scheduled piece", section=self.section, status=Status.IN_REVIEW,
            authors=[self.author], submitted_by=self.writer,
        )  # fmt: skip
        self.client.force_login(self.editor)

    def schedule(self, moment):
        day, time = local_date_and_time(moment)
        data = transition_data(self.feature, when="later", publish_at_0=day, publish_at_1=time)
        return self.client.post(workflow_url(self.feature, "publish"), data)

    def test_scheduled_feature_is_hidden_until_its_time_then_live_without_a_command(self):
        go_live = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
        response = self.schedule(go_live)
        assert response.status_code == 302

        self.feature.refresh_from_db()
        assert self.feature.status == Status.PUBLISHED
        assert self.feature.publish_at == go_live
        assert Transition.objects.get(feature=self.feature).publish_at == go_live
        assert public_places(self.feature) == set()

        # Its time comes: moved into the past by a queryset update, no command is run.
        Feature.objects.filter(pk=self.feature.pk).update(
            publish_at=timezone.now() - timedelta(minutes=1)
        )
        assert public_places(self.feature) == EVERYWHERE

    def test_publishing_at_a_past_time_is_refused_with_a_form_error(self):
        before = snapshot(self.feature)
        response = self.schedule(timezone.now() - timedelta(hours=1))
        assert response.status_code == 400
        assert "That time has passed" in str(response.context["form"].errors["publish_at"])
        assert snapshot(self.feature) == before

    def test_scheduling_without_a_time_is_refused(self):
        before = snapshot(self.feature)
        response = self.client.post(
            workflow_url(self.feature, "publish"), transition_data(self.feature, when="later")
        )
        assert response.status_code == 400
        assert response.context["form"].errors["publish_at"]
        assert snapshot(self.feature) == before


class WriterTamperingTests(TestCase):
    """Writers who post what the admin does not offer them are refused, and nothing changes."""

    @classmethod
    def setUpTestData(cls):
        cls.writer = make_user("writer", group="Writers")
        cls.editor = make_user("editor", group="Editors")
        cls.author = make_author("Wendy Writer", user=cls.writer)

    def make_own_feature(self, status):
        return make_feature(status=status, authors=[self.author], created_by=self.writer)

    def test_writer_can_save_their_own_draft(self):
        # The control for the refusals below: the same form, untampered, saves.
        feature = self.make_own_feature(Status.DRAFT)
        self.client.force_login(self.writer)
        data = change_form_data(self.client, change_url(feature))
        data["title"] = "Retitled"
        assert self.client.post(change_url(feature), data).status_code == 302
        feature.refresh_from_db()
        assert feature.title == "Retitled"

    def test_writer_posting_workflow_fields_in_the_change_form_is_refused(self):
        future_day, future_time = local_date_and_time(timezone.now() + timedelta(days=1))
        tamperings = {
            "status": {"status": Status.PUBLISHED},
            "publish_at": {"publish_at_0": future_day, "publish_at_1": future_time},
            "needs_approval": {"needs_approval": "on"},
        }
        for name, extra in tamperings.items():
            with self.subTest(name):
                feature = self.make_own_feature(Status.DRAFT)
                self.client.force_login(self.writer)
                data = change_form_data(self.client, change_url(feature))
                before = snapshot(feature)
                response = self.client.post(
                    change_url(feature), {**data, "title": "Retitled", **extra}
                )
                assert response.status_code == 200
                errors = response.context["adminform"].form.non_field_errors()
                assert any("only through the workflow buttons" in error for error in errors)
                assert snapshot(feature) == before

    def test_writer_posting_the_change_form_of_a_feature_in_review_or_published_is_forbidden(self):
        for status in [Status.IN_REVIEW, Status.PUBLISHED]:
            with self.subTest(status):
                feature = self.make_own_feature(status)
                # A complete form, as an editor's browser would post it.
                self.client.force_login(self.editor)
                data = change_form_data(self.client, change_url(feature))
                data.update(title="Retitled", minor_change="on")
                before = snapshot(feature)

                self.client.force_login(self.writer)
                response = self.client.post(change_url(feature), data)
                assert response.status_code == 403
                assert snapshot(feature) == before

    def test_writer_cannot_call_the_publish_action(self):
        feature = self.make_own_feature(Status.IN_REVIEW)
        self.client.force_login(self.writer)
        offered = self.client.get(changelist_url()).context["action_form"]
        assert "publish_selected" not in dict(offered.fields["action"].choices)
        assert "submit_selected" in dict(offered.fields["action"].choices)

        before = snapshot(feature)
        data = {"action": "publish_selected", "_selected_action": [feature.pk], "index": 0}
        response = self.client.post(changelist_url(), data, follow=True)
        assert response.status_code == 200
        assert snapshot(feature) == before
        assert not messages_of(response, message_levels.SUCCESS)

    def test_staff_without_feature_permissions_posting_a_stale_change_form_is_forbidden(self):
        feature = self.make_own_feature(Status.DRAFT)
        outsider = make_user("outsider")
        self.client.force_login(outsider)
        response = self.client.post(change_url(feature), {"base_version": "0"})
        assert response.status_code == 403
        self.assertNotContains(response, feature.title, status_code=403)


class BulkActionTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.writer = make_user("writer", group="Writers")
        cls.editor = make_user("editor", group="Editors")
        cls.author = make_author("Bea Bulk")

    def run_action(self, action, features):
        self.client.force_login(self.editor)
        data = {"action": action, "_selected_action": [f.pk for f in features], "index": 0}
        return self.client.post(changelist_url(), data, follow=True)

    def make_features(self, count, status, **fields):
        return [make_feature(status=status, authors=[self.author], **fields) for _ in range(count)]

    def test_editor_publishes_several_and_is_told_how_many(self):
        ready = self.make_features(3, Status.IN_REVIEW, submitted_by=self.writer)
        own_submission = make_feature(
            "Own submission", status=Status.IN_REVIEW, authors=[self.author],
            submitted_by=self.editor,
        )  # fmt: skip
        withdrawn = make_feature("Gone", status=Status.WITHDRAWN, authors=[self.author])
        refused = [own_submission, withdrawn]
        before = {feature.pk: snapshot(feature) for feature in refused}

        response = self.run_action("publish_selected", [*ready, *refused])

        assert messages_of(response, message_levels.SUCCESS) == ["Published 3 features."]
        warnings = messages_of(response, message_levels.WARNING)
        assert len(warnings) == 2
        assert any("“Own submission”" in warning for warning in warnings)
        assert any("“Gone”" in warning for warning in warnings)
        for feature in ready:
            feature.refresh_from_db()
            assert feature.status == Status.PUBLISHED and feature.is_live
            assert Transition.objects.get(feature=feature).actor == self.editor
        for feature in refused:
            assert snapshot(feature) == before[feature.pk]

    def test_editor_unpublishes_several_and_is_told_how_many(self):
        live = self.make_features(2, Status.PUBLISHED)
        draft = make_feature("Still a draft", status=Status.DRAFT, authors=[self.author])
        before = snapshot(draft)

        response = self.run_action("unpublish_selected", [*live, draft])

        assert messages_of(response, message_levels.SUCCESS) == ["Unpublished 2 features."]
        warnings = messages_of(response, message_levels.WARNING)
        assert len(warnings) == 1 and "“Still a draft”" in warnings[0]
        for feature in live:
            feature.refresh_from_db()
            assert feature.status == Status.DRAFT
            assert Client().get(feature.get_absolute_url()).status_code == 404
        assert snapshot(draft) == before


class StaleTransitionTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.writer = make_user("writer", group="Writers")
        cls.editor = make_user("editor", group="Editors")
        cls.colleague = make_user("colleague", group="Editors")
        cls.feature = make_feature(
            "Raced piece", status=Status.IN_REVIEW, authors=[make_author("Rae Race")],
            submitted_by=cls.writer,
        )  # fmt: skip

    def test_transition_posted_from_an_old_version_is_refused_and_changes_nothing(self):
        self.client.force_login(self.editor)
        page = self.client.get(workflow_url(self.feature, "publish"))
        opened_at = page.context["form"]["version"].value()

        # A colleague saves the feature while the confirmation page is open.
        colleague = Client()
        colleague.force_login(self.colleague)
        data = change_form_data(colleague, change_url(self.feature))
        data["title"] = "Raced piece, corrected"
        assert colleague.post(change_url(self.feature), data).status_code == 302
        before = snapshot(self.feature)

        response = self.client.post(
            workflow_url(self.feature, "publish"),
            {"version": opened_at, "comment": "", "when": "now"},
        )
        assert response.status_code == 400
        self.assertContains(response, "Someone else saved this feature", status_code=400)
        assert snapshot(self.feature) == before
        assert before["status"] == Status.IN_REVIEW


class PublishButtonTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.writer = make_user("writer", group="Writers")
        cls.editor = make_user("editor", group="Editors")
        cls.feature = make_feature(
            "Draft piece", status=Status.DRAFT, created_by=cls.writer,
            authors=[make_author("Wendy Writer", user=cls.writer)],
        )  # fmt: skip

    def test_writer_sees_submit_but_no_publish_button_on_their_own_draft(self):
        self.client.force_login(self.writer)
        response = self.client.get(change_url(self.feature))
        self.assertContains(response, f'href="{workflow_url(self.feature, "submit")}"')
        self.assertNotContains(response, f'href="{workflow_url(self.feature, "publish")}"')
        self.assertNotContains(response, ">Publish<")

    def test_editor_sees_the_publish_button(self):
        self.client.force_login(self.editor)
        response = self.client.get(change_url(self.feature))
        self.assertContains(
            response,
            f'<a class="button" href="{workflow_url(self.feature, "publish")}">Publish</a>',
            html=True,
        )


class SentBackNoticeTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.writer = make_user("writer", group="Writers")
        cls.editor = make_user("editor", group="Editors")
        cls.feature = make_feature(
            "Returned piece", status=Status.IN_REVIEW, created_by=cls.writer,
            authors=[make_author("Wendy Writer", user=cls.writer)], submitted_by=cls.writer,
        )  # fmt: skip

    def test_an_old_send_back_comment_is_not_shown_after_a_later_unpublish(self):
        workflow.send_back(self.feature, by=self.editor, comment="Cut the intro.")
        workflow.submit(self.feature, by=self.writer)
        workflow.publish(self.feature, by=self.editor)
        workflow.unpublish(self.feature, by=self.editor, comment="Embargo broken.")
        self.client.force_login(self.writer)
        response = self.client.get(change_url(self.feature))
        self.assertContains(response, "Embargo broken.")
        self.assertNotContains(response, "Sent back by")


class TransitionLogTests(TestCase):
    def test_log_on_the_change_page_names_each_step_by_its_label(self):
        editor = make_user("editor", group="Editors")
        feature = make_feature(status=Status.IN_REVIEW, authors=[make_author()])
        workflow.send_back(feature, by=editor, comment="Needs a source.")
        self.client.force_login(editor)
        response = self.client.get(change_url(feature))
        self.assertContains(response, "<td>Send back</td>", html=True)
