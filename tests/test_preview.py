from datetime import timedelta

from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from features.models import Feature, PreviewLink, PreviewLinkUse, Status
from tests.factories import change_form_data, make_author, make_feature, make_user


class StaffPreviewTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = make_user(group="Editors")
        cls.writer = make_user(group="Writers")
        cls.other_writer = make_user(group="Writers")
        cls.draft = make_feature(
            "Unpublished thoughts", status=Status.DRAFT, created_by=cls.writer,
            authors=[make_author("Ann Lee")],
        )  # fmt: skip
        cls.scheduled = make_feature(
            "Coming soon", publish_at=timezone.now() + timedelta(days=2), authors=[make_author()]
        )

    def test_editor_sees_a_draft_at_its_real_url_with_a_banner(self):
        self.client.force_login(self.editor)
        response = self.client.get(self.draft.get_absolute_url())
        assert response.status_code == 200
        self.assertContains(response, "Preview — not published")
        self.assertContains(response, "Unpublished thoughts")
        cache_control = response["Cache-Control"]
        assert "private" in cache_control and "no-cache" in cache_control
        self.assertContains(response, '<meta name="robots" content="noindex, nofollow">')

    def test_scheduled_preview_says_when_it_goes_live(self):
        self.client.force_login(self.editor)
        response = self.client.get(self.scheduled.get_absolute_url())
        self.assertContains(response, "Scheduled to go live on")

    def test_writer_previews_their_own_draft(self):
        self.client.force_login(self.writer)
        response = self.client.get(self.draft.get_absolute_url())
        self.assertContains(response, "Preview — not published")

    def test_other_writers_and_the_public_get_404(self):
        self.client.force_login(self.other_writer)
        assert self.client.get(self.draft.get_absolute_url()).status_code == 404
        self.client.logout()
        assert self.client.get(self.draft.get_absolute_url()).status_code == 404

    def test_live_page_has_no_banner(self):
        live = make_feature("Out now", authors=[make_author()])
        self.client.force_login(self.editor)
        self.assertNotContains(self.client.get(live.get_absolute_url()), "Preview — not published")


class PreviewLinkTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = make_user(group="Editors")
        cls.writer = make_user(group="Writers")
        cls.feature = make_feature(
            "Guest column", status=Status.IN_REVIEW, authors=[make_author("Guest Author")],
            body="<p>Words from our guest.</p>",
        )  # fmt: skip

    def make_link(self, **fields):
        return PreviewLink.objects.create(feature=self.feature, created_by=self.editor, **fields)

    def test_editor_creates_a_link_from_the_change_form_valid_for_seven_days(self):
        self.client.force_login(self.editor)
        url = reverse("admin:features_feature_change", args=[self.feature.pk])
        data = change_form_data(self.client, url)
        data["preview_links-TOTAL_FORMS"] = "1"
        data["preview_links-0-note"] = "For the guest author"
        expiry = timezone.localtime(timezone.now() + timedelta(days=7))
        data["preview_links-0-expires_at_0"] = expiry.strftime("%d/%m/%Y")
        data["preview_links-0-expires_at_1"] = expiry.strftime("%H:%M:%S")
        response = self.client.post(url, data)
        assert response.status_code == 302, response.context and response.context["errors"]
        link = PreviewLink.objects.get(feature=self.feature)
        assert link.created_by == self.editor and link.note == "For the guest author"
        assert timedelta(days=6, hours=23) < link.expires_at - timezone.now() <= timedelta(days=7)

    def test_default_expiry_is_seven_days(self):
        link = self.make_link()
        assert timedelta(days=6, hours=23) < link.expires_at - timezone.now() <= timedelta(days=7)

    def test_link_works_without_an_account_and_each_use_is_logged(self):
        link = self.make_link(note="Guest")
        response = self.client.get(link.get_absolute_url(), HTTP_USER_AGENT="Test browser")
        assert response.status_code == 200
        self.assertContains(response, "Words from our guest.")
        self.assertContains(response, "Preview — not published")
        assert "private" in response["Cache-Control"]
        assert response["Referrer-Policy"] == "no-referrer"
        self.client.get(link.get_absolute_url())
        uses = PreviewLinkUse.objects.filter(link=link)
        assert uses.count() == 2
        assert uses.filter(user_agent="Test browser", ip_address="127.0.0.1").exists()

    def test_expired_link_is_404_and_reveals_nothing(self):
        link = self.make_link(expires_at=timezone.now() - timedelta(minutes=1))
        response = self.client.get(link.get_absolute_url())
        assert response.status_code == 404
        self.assertNotContains(response, "Guest column", status_code=404)
        assert not PreviewLinkUse.objects.exists()

    def test_revoked_link_is_404(self):
        link = self.make_link()
        assert self.client.get(link.get_absolute_url()).status_code == 200
        link.revoked_at = timezone.now()
        link.save()
        response = self.client.get(link.get_absolute_url())
        assert response.status_code == 404
        self.assertNotContains(response, "Guest column", status_code=404)

    def test_editor_revokes_a_link_from_the_change_form(self):
        link = self.make_link()
        self.client.force_login(self.editor)
        url = reverse("admin:features_feature_change", args=[self.feature.pk])
        data = change_form_data(self.client, url)
        data["preview_links-0-revoke"] = "on"
        assert self.client.post(url, data).status_code == 302
        link.refresh_from_db()
        assert link.revoked_at is not None
        self.client.logout()
        assert self.client.get(link.get_absolute_url()).status_code == 404

    def test_tampered_or_unsigned_tokens_are_404(self):
        link = self.make_link()
        token = link.token
        for bad in [token[:-2] + "xx", str(link.key), "nonsense", "a:b:c"]:
            with self.subTest(token=bad):
                url = reverse("features:preview", kwargs={"token": bad})
                assert self.client.get(url).status_code == 404

    def test_writers_cannot_see_or_make_preview_links(self):
        own = make_feature("Writer's own", status=Status.DRAFT, created_by=self.writer)
        self.client.force_login(self.writer)
        url = reverse("admin:features_feature_change", args=[own.pk])
        html = self.client.get(url).content.decode()
        assert "Preview links for people without an account" not in html
        data = change_form_data(self.client, url)
        expiry = timezone.localtime(timezone.now() + timedelta(days=3))
        data.update({
            "preview_links-TOTAL_FORMS": "1", "preview_links-INITIAL_FORMS": "0",
            "preview_links-0-note": "sneaky",
            "preview_links-0-expires_at_0": expiry.strftime("%d/%m/%Y"),
            "preview_links-0-expires_at_1": expiry.strftime("%H:%M:%S"),
        })  # fmt: skip
        response = self.client.post(url, data)
        assert response.status_code == 302  # the writer's own edit is saved...
        assert not PreviewLink.objects.filter(feature=own).exists()  # ...the link is not

    def test_a_link_to_a_withdrawn_feature_is_404_and_to_a_live_one_redirects(self):
        link = self.make_link()
        Feature.objects.filter(pk=self.feature.pk).update(
            status=Status.WITHDRAWN, withdrawn_at=timezone.now()
        )
        assert self.client.get(link.get_absolute_url()).status_code == 404
        Feature.objects.filter(pk=self.feature.pk).update(
            status=Status.PUBLISHED, publish_at=timezone.now(), withdrawn_at=None
        )
        response = self.client.get(link.get_absolute_url())
        assert response.status_code == 302
        assert response["Location"] == self.feature.get_absolute_url()
