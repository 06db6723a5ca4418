import json
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.test import SimpleTestCase, TestCase, override_settings
from django.urls import reverse

from tests.factories import make_feature, make_user

ROOT = Path(__file__).resolve().parent.parent


def manage(*args, **env):
    """Run manage.py in a fresh process with a production-like environment."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))
    }
    environment.update(env)
    return subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "news.example.org",
}


class ProductionSettingsTests(SimpleTestCase):
    def test_check_deploy_reports_nothing(self):
        result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "no issues" in result.stdout

    def test_a_bucket_in_the_environment_puts_uploads_on_s3(self):
        result = manage(
            "shell", "-c",
            "from django.core.files.storage import storages; "
            "from django.conf import settings; s = storages['default']; "
            "print(type(s).__name__, s.bucket_name, settings.SERVE_MEDIA)",
            AWS_STORAGE_BUCKET_NAME="newsroom-media", AWS_S3_REGION_NAME="eu-west-2",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert result.stdout.split()[-3:] == ["S3Storage", "newsroom-media", "False"]

    def test_production_settings_trust_the_balancer_and_redirect_plain_http(self):
        script = (
            "from django.test import Client; c = Client(); "
            "r = c.get('/robots.txt'); print(r.status_code, r['Location']); "
            "r = c.get('/robots.txt', headers={'X-Forwarded-Proto': 'https'}); "
            "print(r.status_code, r['Strict-Transport-Security']); "
            "print(c.get('/healthz').status_code)"
        )
        database = Path(tempfile.mkdtemp()) / "check.sqlite3"
        env = {**PRODUCTION, "DJANGO_ALLOWED_HOSTS": "testserver",
               "DATABASE_URL": f"sqlite:///{database}"}  # fmt: skip
        assert manage("migrate", "-v0", **env).returncode == 0
        result = manage("shell", "-c", script, **env)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.split("\n")
        assert lines[-4] == "301 https://testserver/robots.txt"
        assert lines[-3].startswith("200 max-age=31536000; includeSubDomains; preload")
        assert lines[-2] == "200"  # the health check answers over plain HTTP

    def test_production_refuses_to_start_with_the_development_key(self):
        result = manage("check", DJANGO_DEBUG="false", DJANGO_ALLOWED_HOSTS="news.example.org")
        assert result.returncode != 0
        assert "refusing to run production with the development secret key" in result.stderr


class SecurityHeaderTests(TestCase):
    def test_public_pages_send_the_security_headers_and_a_strict_policy(self):
        make_feature("Headers")
        for url in ["/", "/features/", "/feeds/latest.rss"]:
            with self.subTest(url=url):
                response = self.client.get(url)
                assert response["X-Content-Type-Options"] == "nosniff"
                assert response["Referrer-Policy"] == "same-origin"
                assert response["X-Frame-Options"] == "DENY"
                policy = response["Content-Security-Policy"]
                assert "default-src 'self'" in policy
                assert "frame-ancestors 'none'" in policy
                assert "script-src 'self'" in policy and "unsafe-inline" not in policy

    def test_the_admin_has_its_own_policy(self):
        self.client.force_login(make_user(group="Editors"))
        response = self.client.get(reverse("admin:features_feature_add"))
        assert response.status_code == 200
        assert response["Content-Security-Policy"] == settings.ADMIN_CONTENT_SECURITY_POLICY
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


@override_settings(
    SECURE_SSL_REDIRECT=True,
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
    SECURE_REDIRECT_EXEMPT=[r"^healthz$"],
    SECURE_HSTS_SECONDS=31536000,
)
class BehindTheLoadBalancerTests(TestCase):
    def test_plain_http_is_redirected_to_https(self):
        response = self.client.get("/features/")
        assert response.status_code == 301
        assert response["Location"] == "https://testserver/features/"

    def test_https_said_by_the_balancer_is_trusted(self):
        response = self.client.get("/features/", headers={"X-Forwarded-Proto": "https"})
        assert response.status_code == 200
        assert "max-age=31536000" in response["Strict-Transport-Security"]

    def test_the_health_check_answers_over_plain_http(self):
        assert self.client.get("/healthz").status_code == 200


class HealthCheckTests(TestCase):
    def test_reports_database_and_cache_and_nothing_secret(self):
        response = self.client.get("/healthz")
        assert response.status_code == 200
        assert json.loads(response.content) == {"status": "ok", "database": "ok", "cache": "ok"}
        assert "no-cache" in response["Cache-Control"]

    @override_settings(
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://127.0.0.1:1/0",
                "OPTIONS": {"socket_connect_timeout": 0.2},
            }
        }
    )
    def test_a_missing_cache_is_degraded_not_down(self):
        with self.assertLogs("newsroom.health", level="ERROR"):
            response = self.client.get("/healthz")
        assert response.status_code == 200
        assert json.loads(response.content)["cache"] == "unavailable"


class LoginThrottlingTests(TestCase):
    def login(self, password):
        return self.client.post(
            reverse("admin:login"),
            {"username": "editor", "password": password, "next": "/admin/"},
        )

    def test_five_failures_lock_the_account_out_with_a_clear_message(self):
        make_user("editor", group="Editors")
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            assert self.login("wrong").status_code == 200
        response = self.login("wrong")
        assert response.status_code == 429
        self.assertContains(response, "Sign-in paused", status_code=429)
        self.assertContains(response, "15 minutes", status_code=429)
        # Even the right password waits now.
        assert self.login("a-long-test-password").status_code == 429

    def test_a_success_before_the_limit_starts_the_count_again(self):
        make_user("editor", group="Editors")
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            self.login("wrong")
        assert self.login("a-long-test-password").status_code == 302
        self.client.logout()
        assert self.login("wrong").status_code == 200
