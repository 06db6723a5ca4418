import re
from pathlib import Path

from django.conf import settings
from django.test import TestCase, override_settings
from django.urls import reverse


class AccessibilityStatementTests(TestCase):
    def test_statement_is_served_with_standard_testing_contact_and_enforcement(self):
        url = reverse("features:accessibility")
        assert url == "/accessibility/"
        response = self.client.get(url)
        assert response.status_code == 200
        assert response.template_name == ["features/accessibility.html"]
        self.assertContains(response, "<h1>Accessibility statement for Newsroom</h1>", html=True)
        self.assertContains(response, "version 2.2")
        self.assertContains(response, "axe-core")
        self.assertContains(response, "tests/test_browser.py")
        self.assertContains(response, "320 pixels")
        self.assertContains(response, "Equality Advisory and Support Service")
        self.assertContains(response, "Equality and Human Rights Commission")
        self.assertContains(response, "This statement was prepared on")

    def test_every_test_the_statement_names_exists(self):
        """The statement claims only what the browser tests check."""
        page = self.client.get(reverse("features:accessibility")).content.decode()
        named = re.findall(r"<code>(test_\w+)</code>", page)
        tests = (Path(__file__).parent / "test_browser.py").read_text()
        assert len(named) >= 6
        for name in named:
            assert f"def {name}(self" in tests, name

    def test_statement_gives_the_configured_contact_email(self):
        newsroom = {**settings.NEWSROOM, "CONTACT_EMAIL": "access@example.gov.uk"}
        with override_settings(NEWSROOM=newsroom):
            response = self.client.get(reverse("features:accessibility"))
        self.assertContains(response, 'href="mailto:access@example.gov.uk?subject=', count=2)

    def test_every_public_page_links_to_the_statement_from_its_footer(self):
        for url in ["/", "/features/", "/feeds/", "/no-such-page/"]:
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertContains(
                    response,
                    '<a href="/accessibility/">Accessibility statement</a>',
                    html=True,
                    status_code=response.status_code,
                )
