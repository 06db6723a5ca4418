"""
Two real app servers (gunicorn) sharing one PostgreSQL and one Redis, as in production:
a feature published through one shows on the other at the next request, and both keep
serving when Redis stops.
"""

import http.client
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from django.db import connection
from django.test import TransactionTestCase

from features.models import Feature, Status
from tests.conftest import need
from tests.factories import make_author, make_feature, make_section, make_user

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "a-long-test-password"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port, path="/healthz", seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            status, _headers, _body = Browser(port).get(path)
            if status in {200, 503}:
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing answered on port {port} within {seconds} s")


class Browser:
    """Just enough of a browser: cookies, and the balancer's X-Forwarded-Proto."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        headers = {"Host": "127.0.0.1", "X-Forwarded-Proto": "https", **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        content = response.read()
        for header in response.msg.get_all("Set-Cookie") or []:
            cookie = SimpleCookie(header)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        conn.close()
        return response.status, dict(response.getheaders()), content

    def get(self, path, **headers):
        return self.request("GET", path, headers=headers)

    def post(self, path, fields):
        from urllib.parse import urlencode

        _status, _headers, content = self.get(path)
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', content).group(1)
        data = urlencode({"csrfmiddlewaretoken": token.decode(), **fields})
        return self.request(
            "POST",
            path,
            body=data,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"https://127.0.0.1{path}",
            },
        )


@pytest.mark.postgres
class TwoServerTests(TransactionTestCase):
    def setUp(self):
        for program in ["redis-server", "redis-cli"]:
            if shutil.which(program) is None:
                need(f"needs {program} (apt-get install redis-server; bash .ci/run does)")
        self.processes = []
        self.workdir = Path(tempfile.mkdtemp(prefix="newsroom-two-servers-"))
        self.redis_port = free_port()
        self.redis = self.start(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.redis_port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            {},
        )
        database = connection.settings_dict
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_STATIC_ROOT": str(self.workdir / "static"),
            "DJANGO_MEDIA_ROOT": str(self.workdir / "media"),
            "DATABASE_URL": (
                f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@"
                f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"
            ),
            "DATABASE_CONN_MAX_AGE": "0",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "GUNICORN_WORKERS": "2",
            "GUNICORN_ACCESS_LOG": str(self.workdir / "access.log"),
        }
        collected = subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert collected.returncode == 0, collected.stderr
        self.ports = [free_port(), free_port()]
        for port in self.ports:
            self.start(
                [sys.executable, "-m", "gunicorn", "-c", "newsroom/gunicorn.conf.py"],
                {**self.env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
            )
        for port in self.ports:
            wait_for(port)

    def start(self, command, env):
        process = subprocess.Popen(  # noqa: S603 - fixed commands
            command, cwd=ROOT, env=env or None,
            stdout=subprocess.DEVNULL, stderr=open(self.workdir / "stderr.log", "ab"),  # noqa: SIM115
        )  # fmt: skip
        self.processes.append(process)
        return process

    def tearDown(self):
        for process in reversed(self.processes):
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def test_publishing_through_one_server_shows_on_the_other_and_both_survive_redis(self):
        make_user("editor", group="Editors")  # its password is PASSWORD
        section = make_section("News")
        make_feature("Already out", section=section, authors=[make_author("Ann Lee")])
        draft = make_feature(
            "Published across servers", section=section, status=Status.IN_REVIEW,
            authors=[make_author("Bo Ma")],
        )  # fmt: skip
        first, second = Browser(self.ports[0]), Browser(self.ports[1])

        # The second server reads the home page and feed twice: now they are cached in Redis.
        for _ in range(2):
            for path in ["/", "/feeds/latest.rss"]:
                status, headers, body = second.get(path, Accept="text/html")
                assert status == 200 and b"Published across servers" not in body
        assert headers.get("X-Cache") == "hit"

        # An editor publishes through the first server, as in a browser.
        status, headers, _ = first.post(
            "/admin/login/?next=/admin/", {"username": "editor", "password": PASSWORD}
        )
        assert status == 302, "login failed"
        draft.refresh_from_db()
        status, headers, _ = first.post(
            f"/admin/features/feature/{draft.pk}/workflow/publish/",
            {"version": draft.version, "when": "now"},
        )
        assert status == 302
        assert Feature.objects.get(pk=draft.pk).is_live

        # The other server shows it at the next request.
        for path in ["/", "/feeds/latest.rss"]:
            status, _headers, body = second.get(path, Accept="text/html")
            assert status == 200
            assert b"Published across servers" in body, path

        # Redis stops: both servers keep serving, from the database.
        self.redis.terminate()
        self.redis.wait(timeout=10)
        for browser in [Browser(self.ports[0]), Browser(self.ports[1])]:
            for path in ["/", "/feeds/latest.rss", "/features/"]:
                status, _headers, body = browser.get(path)
                assert status == 200, (browser.port, path)
                assert b"Published across servers" in body
            status, _headers, body = browser.get("/healthz")
            assert status == 200 and b'"cache": "unavailable"' in body
