"""
The benchmark: a fresh database of N features, gunicorn on loopback, and wrk (a load
generator outside Python, so the server is what is measured) against each kind of URL.
Static file served by the same gunicorn (whitenoise) is the reference; every result is also
given as a ratio to it. Writes a Markdown table and a JSON file, and a bar chart where
matplotlib is installed.

    python bench/run.py                      # N = 10,000, caching as shipped
    python bench/run.py --features 100000
    python bench/run.py --uncached           # every cache switched to DummyCache
    python bench/run.py --smoke              # tiny N, one second a URL: checks the script
"""

import argparse
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PASSWORD = secrets.token_urlsafe(16)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--features", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per URL")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--uncached", action="store_true", help="every cache is DummyCache")
    parser.add_argument(
        "--database-url", default="", help="a PostgreSQL URL to use (it is emptied!)"
    )
    parser.add_argument("--redis-url", default="", help="Redis for the cache (else local memory)")
    parser.add_argument("--smoke", action="store_true", help="tiny N, 1 s a URL, no targets")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args()
    if args.smoke:
        args.features, args.duration, args.connections, args.threads = 60, 1, 2, 1
    return args


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(command, env, **kwargs):
    result = subprocess.run(  # noqa: S603 - the project's own commands
        command, cwd=ROOT, env=env, capture_output=True, text=True, check=False, **kwargs
    )
    if result.returncode:
        sys.exit(f"failed: {' '.join(command)}\n{result.stdout}\n{result.stderr}")
    return result.stdout


def fresh_database(args, workdir):
    """A new, empty database: a SQLite file, or the PostgreSQL database named, recreated."""
    if not args.database_url:
        return f"sqlite:///{workdir / 'bench.sqlite3'}"
    import psycopg

    url = urlsplit(args.database_url)
    name = url.path.lstrip("/")
    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return args.database_url


class Client:
    """Enough HTTP for logging in and reading headers, through the same gunicorn."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}

    def request(self, method, path, body=None, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Host": "127.0.0.1", **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        content = response.read()
        for header in response.msg.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        connection.close()
        return response.status, response.msg, content

    def log_in(self, username):
        _status, _headers, page = self.request("GET", "/admin/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body = urlencode(
            {
                "csrfmiddlewaretoken": token.decode(),
                "username": username,
                "password": PASSWORD,
                "next": "/admin/",
            }
        )
        status, _headers, _ = self.request(
            "POST", "/admin/login/", body,
            {"Content-Type": "application/x-www-form-urlencoded",
             "Referer": f"http://127.0.0.1:{self.port}/admin/login/"},
        )  # fmt: skip
        if status != 302:
            sys.exit("could not log in to the admin for the changelist benchmark")
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())


def wait_for(port, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if Client(port).request("GET", "/healthz")[0] == 200:
                return
        except OSError:
            time.sleep(0.3)
    sys.exit("gunicorn did not start")


def wrk(args, url, headers):
    env = {**os.environ, "BENCH_HEADERS": "\n".join(f"{k}: {v}" for k, v in headers.items())}
    command = [
        "wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s",
        "--timeout", "10s", "-s", str(ROOT / "bench" / "report.lua"), url,
    ]  # fmt: skip
    output = subprocess.run(  # noqa: S603 - wrk with our own arguments
        command, capture_output=True, text=True, env=env, check=True
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    return json.loads(line[len("BENCH ") :])


def targets(name, uncached):
    """The issue's targets, as a ratio of the static file's requests per second."""
    if uncached:
        return 0.1 if name != "admin changelist" else None
    if name == "feed, 304":
        return 0.9
    if name.startswith("feed"):
        return 0.7
    if name in {"admin changelist", "static file"}:
        return None
    return 0.85


def main():
    args = parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    workdir = Path(tempfile.mkdtemp(prefix="newsroom-bench-"))
    database_url = fresh_database(args, workdir)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "NEWSROOM_"))},
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_STATIC_ROOT": str(workdir / "static"),
        "DJANGO_MEDIA_ROOT": str(workdir / "media"),
        "DATABASE_URL": database_url,
        "REDIS_URL": args.redis_url,
        "GUNICORN_ACCESS_LOG": str(workdir / "access.log"),
    }
    if args.uncached:
        env["NEWSROOM_CACHE"] = "dummy"
    print(f"Seeding {args.features:,} features into a fresh database…", flush=True)
    started = time.monotonic()
    run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], env)
    migrated = time.monotonic()
    run([PYTHON, "manage.py", "seed_bulk", "--features", str(args.features), "-v0"], env)
    seeded = time.monotonic()
    run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], env)
    facts = json.loads(
        run([PYTHON, "manage.py", "shell", "-c", SETUP.replace("PASSWORD", repr(PASSWORD))], env)
        .strip()
        .splitlines()[-1]
    )
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - gunicorn with the project's config
        [PYTHON, "-m", "gunicorn", "-c", "newsroom/gunicorn.conf.py"],
        cwd=ROOT, env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
        stdout=subprocess.DEVNULL, stderr=open(workdir / "gunicorn.log", "w"),  # noqa: SIM115
    )  # fmt: skip
    try:
        wait_for(port)
        results = measure(args, port, facts)
    finally:
        server.terminate()
        server.wait(timeout=30)
    report(args, results, seeded - migrated, started)
    shutil.rmtree(workdir, ignore_errors=True)
    bad = [row for row in results if row["errors"] or row["requests"] == 0]
    if bad:
        sys.exit(f"requests failed for: {', '.join(row['name'] for row in bad)}")


# Run inside manage.py shell: a bench editor, and the addresses to measure.
SETUP = """
import json
from django.contrib.auth.models import Group, User
from features.models import Feature
from features.pagination import cursor_of
from taggit.models import Tag
user, _ = User.objects.get_or_create(username="bench", defaults={"is_staff": True})
user.set_password(PASSWORD); user.is_staff = True; user.save()
user.groups.add(Group.objects.get(name="Editors"))
live = Feature.objects.live()
feature = live.order_by("publish_at")[live.count() // 2]
tag = Tag.objects.filter(pk__in=live.values("tags")).order_by("name").first()
deep = live.order_by("-publish_at", "-pk")[live.count() * 9 // 10]
print(json.dumps({"feature": feature.slug, "tag": tag.slug, "deep_cursor": cursor_of(deep),
                  "word": feature.title.split()[0]}))
"""


def measure(args, port, facts):
    client = Client(port)
    base = f"http://127.0.0.1:{port}"
    static = re.search(rb'href="(/static/css/site[^"]*\.css)"', client.request("GET", "/")[2])
    feed_headers = client.request("GET", "/feeds/latest.rss")[1]
    cookie = Client(port).log_in("bench")
    urls = [
        ("static file", static.group(1).decode(), {}),
        ("home", "/", {}),
        ("features, page 1", "/features/", {}),
        # Deep in the archive, reached as readers reach it: by "Older" links (a cursor).
        ("features, deep page", f"/features/?before={facts['deep_cursor']}", {}),
        ("feature detail", f"/features/{facts['feature']}/", {}),
        ("tag page", f"/tags/{facts['tag']}/", {}),
        ("search", f"/search/?q={facts['word']}", {}),
        ("feed, full", "/feeds/latest.rss", {}),
        ("feed, 304", "/feeds/latest.rss", {"If-None-Match": feed_headers["ETag"]}),
        ("admin changelist", "/admin/features/feature/", {"Cookie": cookie}),
    ]
    results = []
    for name, path, headers in urls:
        status = client.request("GET", path, headers=headers)[0]
        print(f"  {name:22} {path} (HTTP {status})", flush=True)
        results.append({"name": name, "path": path, "status": status,
                        **wrk(args, base + path, headers)})  # fmt: skip
    reference = results[0]["rps"] or 1
    for row in results:
        row["ratio"] = row["rps"] / reference
        row["target"] = targets(row["name"], args.uncached)
    return results


def report(args, results, seed_seconds, started):
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    mode = "uncached" if args.uncached else "cached"
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    header = (
        f"N = {args.features:,} features, {mode}, "
        f"{'PostgreSQL' if args.database_url else 'SQLite'}"
        f"{' + Redis' if args.redis_url and not args.uncached else ''}; "
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s; {machine}; "
        f"seed_bulk took {seed_seconds:.1f} s."
    )
    lines = [
        f"### {header}", "",
        "| URL | HTTP | req/s | p50 ms | p99 ms | × static | target |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]  # fmt: skip
    for row in results:
        target = row["target"]
        verdict = "" if target is None else (
            f"≥ {target}× {'met' if row['ratio'] >= target else 'MISSED'}"
        )  # fmt: skip
        lines.append(
            f"| {row['name']} | {row['status']} | {row['rps']:,.0f} | {row['p50_ms']:.2f} | "
            f"{row['p99_ms']:.2f} | {row['ratio']:.2f} | {verdict} |"
        )
    table = "\n".join(lines) + "\n"
    print("\n" + table)
    name = f"{stamp}-{mode}-{args.features}"
    (output / f"{name}.md").write_text(table)
    (output / f"{name}.json").write_text(
        json.dumps(
            {
                "header": header,
                "features": args.features,
                "mode": mode,
                "seed_seconds": seed_seconds,
                "results": results,
            },
            indent=2,
        )
    )
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"Wrote {output / name}.md and .json (no chart: matplotlib is not installed).")
        return
    figure, axis = plt.subplots(figsize=(9, 4.5))
    axis.barh([row["name"] for row in results], [row["rps"] for row in results])
    axis.invert_yaxis()
    axis.set_xlabel("requests per second")
    axis.set_title(header, fontsize=7)
    figure.tight_layout()
    figure.savefig(output / f"{name}.png", dpi=120)
    print(f"Wrote {output / name}.md, .json and .png in {time.monotonic() - started:.0f} s.")


if __name__ == "__main__":
    main()
