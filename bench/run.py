"""
The benchmark: a fresh database of N features, gunicorn on loopback, and wrk (a load
generator outside Python, so the server is what is measured) against each kind of URL.
Static file served by the same gunicorn (whitenoise) is the reference; every result is also
given as a ratio to it. Writes a Markdown table and a JSON file, and a bar chart where
matplotlib is installed.

    python bench/run.py                        # N = 10,000, caching as shipped
    python bench/run.py --features 100000
    python bench/run.py --uncached             # every cache switched to DummyCache
    python bench/run.py --full                 # N = 1,000, 10,000 and 100,000, both ways
    python bench/run.py --smoke                # tiny N, one second a URL: checks the script

Each URL is loaded for a second to warm the workers, then measured in rounds: every round
measures every URL in turn, with the static file measured before each and after the last,
and each URL's ratio is to the static file measured either side of it, so a machine that
slows down for a while slows down the reference too. Each figure reported is the median of
the rounds. The admin changelist is measured as an editor uses it, over one connection.
Without the cache, every page and feed is also loaded over one connection in each round: its
p50 then is what one request costs, not how long it queued behind fifteen others, and the
growth from the smallest N to the largest is judged on it.
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
import statistics
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
    parser.add_argument("--features", default="10000", help="N, or several: 1000,10000,100000")
    parser.add_argument("--duration", type=int, default=5, help="seconds per URL and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--alone", type=int, default=2, help="seconds per URL and round over one connection"
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--uncached", action="store_true", help="every cache is DummyCache")
    parser.add_argument("--both", action="store_true", help="cached, then uncached")
    parser.add_argument(
        "--full", action="store_true", help="N = 1,000, 10,000 and 100,000, cached and uncached"
    )
    parser.add_argument(
        "--database-url", default="", help="a PostgreSQL URL to use (it is emptied!)"
    )
    parser.add_argument("--redis-url", default="", help="Redis for the cache (else local memory)")
    parser.add_argument("--smoke", action="store_true", help="tiny N, 1 s a URL, no targets")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args()
    if args.full:
        args.features, args.both = "1000,10000,100000", True
    if args.smoke:  # every path of the script, in seconds: two sizes, both ways
        args.features, args.duration, args.rounds, args.both = "30,60", 1, 1, True
        args.alone = 1
        args.connections, args.threads = 2, 1
    args.sizes = [int(n.replace("_", "")) for n in args.features.split(",")]
    args.modes = ["cached", "uncached"] if args.both else (
        ["uncached"] if args.uncached else ["cached"]
    )  # fmt: skip
    args.own_redis = False
    if "cached" in args.modes and not args.redis_url:
        if shutil.which("redis-server"):
            args.own_redis = True  # a throwaway Redis on loopback, started by main()
        elif not args.smoke:
            # Without a shared cache gunicorn runs with the page cache off: measuring that as
            # "cached" would be a lie, so only the uncached site is measured.
            print("No Redis (apt-get install redis-server, or --redis-url): measuring the "
                  "site uncached only.", file=sys.stderr)  # fmt: skip
            args.modes = ["uncached"]
    return args


def start_redis():
    """A Redis of the benchmark's own, on a free loopback port, with nothing saved."""
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - redis-server with our own arguments
        [shutil.which("redis-server"), "--bind", "127.0.0.1", "--port", str(port), "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return server, f"redis://127.0.0.1:{port}/0"
        time.sleep(0.1)
    server.kill()
    sys.exit("redis-server did not start")


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
        if self.cookies and "Cookie" not in headers:
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


def reference_seconds(args):
    """How long each measurement of the static file lasts: a little over half a URL's."""
    return max(1, round(args.duration * 0.6))


def wrk(args, url, headers, duration=None, connections=None):
    connections = connections or args.connections
    env = {**os.environ, "BENCH_HEADERS": "\n".join(f"{k}: {v}" for k, v in headers.items())}
    command = [
        "wrk", f"-t{min(args.threads, connections)}", f"-c{connections}",
        f"-d{duration or args.duration}s", "--timeout", "10s",
        "-s", str(ROOT / "bench" / "report.lua"), url,
    ]  # fmt: skip
    output = subprocess.run(  # noqa: S603 - wrk with our own arguments
        command, capture_output=True, text=True, env=env, check=True
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    return json.loads(line[len("BENCH ") :])


# The targets. Ratios are to the static file's requests per second.
RATIO_TARGETS = {
    "cached": {"feed, 304": 0.9, "feed, full": 0.7, "static file": None, "admin changelist": None},
    "uncached": {"static file": None, "admin changelist": None},
}
DEFAULT_RATIO = {"cached": 0.85, "uncached": 0.1}
# The uncached ratio is the target at this N; the tables give it at every N.
UNCACHED_RATIO_AT = 10_000
CHANGELIST_P50_MS = 300
UNCACHED_GROWTH = 1.5  # p50 at the largest N over p50 at the smallest
SEED_10K_SECONDS = 30
SEED_100K_SECONDS = 75  # "about a minute"


def ratio_target(args, name, mode):
    return RATIO_TARGETS[mode].get(name, DEFAULT_RATIO[mode])


def environment(args, workdir, database_url):
    return {
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


def main():
    args = parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    started = time.monotonic()
    redis = None
    if args.own_redis:
        redis, args.redis_url = start_redis()
    try:
        runs = measure_every_size(args)
    finally:
        if redis is not None:
            redis.terminate()
    report(args, runs, started)
    bad = [f"{row['name']} (N = {r['features']:,}, {r['mode']})" for r in runs
           for row in r["results"] if row["errors"] or row["requests"] == 0]  # fmt: skip
    if bad:
        sys.exit(f"requests failed for: {', '.join(bad)}")
    unproven = [f"{row['name']} (N = {r['features']:,}, {r['mode']}): {row['check']}"
                for r in runs for row in r["results"] if row["check"]]  # fmt: skip
    if unproven and not args.smoke:
        sys.exit(f"not measured as claimed: {'; '.join(unproven)}")


def measure_every_size(args):
    runs = []
    for size in args.sizes:
        workdir = Path(tempfile.mkdtemp(prefix="newsroom-bench-"))
        env = environment(args, workdir, fresh_database(args, workdir))
        print(f"Seeding {size:,} features into a fresh database…", flush=True)
        run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], env)
        seeding = time.monotonic()
        run([PYTHON, "manage.py", "seed_bulk", "--features", str(size), "-v0"], env)
        seed_seconds = time.monotonic() - seeding
        print(f"  seed_bulk took {seed_seconds:.1f} s", flush=True)
        run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], env)
        script = SETUP.replace("PASSWORD", repr(PASSWORD))
        facts = json.loads(run([PYTHON, "manage.py", "shell", "-c", script], env).splitlines()[-1])
        for mode in args.modes:
            mode_env = {**env, "NEWSROOM_CACHE": "dummy"} if mode == "uncached" else env
            print(f"N = {size:,}, {mode}:", flush=True)
            rows = serve_and_measure(args, mode_env, workdir, facts, mode)
            if mode == "uncached" and size != UNCACHED_RATIO_AT:
                for row in rows:
                    row["target"] = None
            runs.append({"features": size, "mode": mode, "seed_seconds": seed_seconds,
                         "results": rows})  # fmt: skip
        shutil.rmtree(workdir, ignore_errors=True)
    return runs


def serve_and_measure(args, env, workdir, facts, mode):
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - gunicorn with the project's config
        [PYTHON, "-m", "gunicorn", "-c", "newsroom/gunicorn.conf.py"],
        cwd=ROOT, env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
        stdout=subprocess.DEVNULL, stderr=open(workdir / "gunicorn.log", "a"),  # noqa: SIM115
    )  # fmt: skip
    try:
        wait_for(port)
        return measure(args, port, facts, mode)
    finally:
        server.terminate()
        server.wait(timeout=30)


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
                  "word": feature.title.split()[0], "number": feature.slug.split("-")[1]}))
"""


def measure(args, port, facts, mode):
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
        # A word in nearly every feature (the worst case), and a number in one title.
        ("search", f"/search/?q={facts['word']}", {}),
        ("search, one match", f"/search/?q={facts['number']}", {}),
        ("feed, full", "/feeds/latest.rss", {}),
        ("feed, 304", "/feeds/latest.rss", {"If-None-Match": feed_headers["ETag"]}),
        ("admin changelist", "/admin/features/feature/", {"Cookie": cookie}),
    ]
    statuses = {}
    for name, path, headers in urls:
        statuses[name] = client.request("GET", path, headers=headers)[0]
        print(f"  {name:22} {path} (HTTP {statuses[name]})", flush=True)
        if not args.smoke:  # warm every worker before anything is measured
            wrk(args, base + path, headers, duration=1, connections=connections_for(args, name))
    rounds = {name: [] for name, _path, _headers in urls}
    alone = {name: [] for name, _path, _headers in urls}
    static_url = base + urls[0][1]
    for number in range(args.rounds):
        # The static file is measured before each URL and after the last, and each URL's
        # ratio is to the mean of the two measurements either side of it: the machine's
        # speed drifts over the minutes a round takes, and slows the nearby reference too.
        before = wrk(args, static_url, {}, duration=reference_seconds(args))
        rounds["static file"].append(before)
        for name, path, headers in urls[1:]:
            measured = wrk(args, base + path, headers, connections=connections_for(args, name))
            after = wrk(args, static_url, {}, duration=reference_seconds(args))
            measured["reference_rps"] = (before["rps"] + after["rps"]) / 2
            rounds[name].append(measured)
            rounds["static file"].append(after)
            before = after
        if mode == "uncached":  # what one request costs, nothing queued before it
            for name, path, headers in urls:
                if connections_for(args, name) > 1 and name != "static file":
                    alone[name].append(
                        wrk(args, base + path, headers, duration=args.alone, connections=1)
                    )
        print(f"  round {number + 1} of {args.rounds} done", flush=True)
    results = []
    for name, path, headers in urls:
        measured = rounds[name]
        # Each round's ratio is to the static file measured around it; the median is
        # reported, with the lowest and highest.
        ratios = [m["rps"] / (m.get("reference_rps", m["rps"]) or 1) for m in measured]
        results.append({
            "name": name, "path": path, "status": statuses[name],
            "connections": connections_for(args, name),
            "rps": statistics.median(m["rps"] for m in measured),
            "p50_ms": statistics.median(m["p50_ms"] for m in measured),
            "p99_ms": statistics.median(m["p99_ms"] for m in measured),
            "p50_alone_ms": (
                statistics.median(m["p50_ms"] for m in alone[name]) if alone[name] else None
            ),
            "ratio": statistics.median(ratios), "ratio_low": min(ratios),
            "ratio_high": max(ratios),
            "requests": sum(m["requests"] for m in measured + alone[name]),
            "errors": sum(m["errors"] + m["non_2xx_3xx"] for m in measured + alone[name]),
            "check": check(client, mode, name, path, headers),
            "target": ratio_target(args, name, mode),
            "rounds": measured,
            "alone_rounds": alone[name],
        })  # fmt: skip
    return results


def check(client, mode, name, path, headers):
    """After the load: is this address still answered the way it was meant to be measured?"""
    status, answer, _body = client.request("GET", path, headers=headers)
    wanted = 304 if name == "feed, 304" else 200
    if status != wanted:
        return f"HTTP {status}, not {wanted}"
    public = name not in {"static file", "admin changelist"}
    if mode == "cached" and public and name != "feed, 304" and answer.get("X-Cache") != "hit":
        return f"X-Cache {answer.get('X-Cache')!r}, not a page from the cache"
    if mode == "uncached" and answer.get("X-Cache"):
        return f"X-Cache {answer.get('X-Cache')!r} with every cache off"
    return ""


def connections_for(args, name):
    """An editor opens the changelist alone: its latency is measured over one connection."""
    return 1 if name == "admin changelist" else args.connections


def verdicts(runs, judged=True):
    """
    Every target of the performance issue that these runs can check: (what, measured, met).
    Unjudged (the smoke run, whose sizes and durations say nothing of speed), met is None.
    """
    found = []
    for run_ in runs:
        where = f"N = {run_['features']:,}, {run_['mode']}"
        for row in run_["results"]:
            if row["target"] is not None:
                found.append((f"{row['name']}: ≥ {row['target']}× static ({where})",
                              f"{row['ratio']:.2f}×", row["ratio"] >= row["target"]))  # fmt: skip
            if row["name"] == "admin changelist" and run_["features"] >= 100_000:
                p50 = row["p50_ms"]
                found.append((f"admin changelist p50 < {CHANGELIST_P50_MS} ms ({where})",
                              f"{p50:.0f} ms", p50 < CHANGELIST_P50_MS))  # fmt: skip
        seeds = {10_000: SEED_10K_SECONDS, 100_000: SEED_100K_SECONDS}
        if run_["features"] in seeds and run_["mode"] == runs[0]["mode"]:
            limit, took = seeds[run_["features"]], run_["seed_seconds"]
            found.append((f"seed_bulk {run_['features']:,} features ≤ {limit} s",
                          f"{took:.1f} s", took <= limit))  # fmt: skip
    uncached = sorted((r for r in runs if r["mode"] == "uncached"), key=lambda r: r["features"])
    if len(uncached) > 1 and uncached[0]["features"] < uncached[-1]["features"]:
        small, large = uncached[0], uncached[-1]
        for before, after in zip(small["results"], large["results"], strict=True):
            if before["name"] in {"static file", "admin changelist"}:
                continue
            # The p50 over one connection: a request's own cost (the p50 under load, also in
            # the tables, is mostly time spent queued, and varies with the machine's mood).
            key = "p50_alone_ms" if before.get("p50_alone_ms") else "p50_ms"
            alone = " (one connection)" if key == "p50_alone_ms" else ""
            growth = after[key] / before[key] if before[key] else float("inf")
            found.append((
                f"{before['name']}: uncached p50{alone} at N = {large['features']:,} ≤ "
                f"{UNCACHED_GROWTH}× p50 at N = {small['features']:,}",
                f"{before[key]:.1f} → {after[key]:.1f} ms ({growth:.2f}×)",
                growth <= UNCACHED_GROWTH,
            ))  # fmt: skip
    return found if judged else [(what, value, None) for what, value, _met in found]


VERDICT = {True: "met", False: "MISSED", None: "not judged"}


def report(args, runs, started):
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )
    backend = "PostgreSQL" if args.database_url else "SQLite"
    redis = " + Redis" if args.redis_url else ""
    lines = [
        f"Machine: {machine}. Database: {backend}{redis}. Load: wrk -t{args.threads} "
        f"-c{args.connections}, {args.rounds} rounds of {args.duration} s per URL (medians), "
        f"the static file {reference_seconds(args)} s before each URL and after the last, "
        "each ratio to the static file measured either side of the URL; "
        "the admin changelist over one connection"
        + (
            f", and without the cache every page and feed also over one connection, {args.alone} "
            's a round ("p50 alone")'
            if "uncached" in args.modes else ""
        )
        + ". wrk, gunicorn, the database and Redis share "
        "the machine's cores. The static file passes through Django's middleware (whitenoise); "
        "pages from the cache are answered before Django.", "",
    ]  # fmt: skip
    for run_ in runs:
        lines += [
            f"### N = {run_['features']:,} features, {run_['mode']} "
            f"(seed_bulk took {run_['seed_seconds']:.1f} s)", "",
            "| URL | HTTP | req/s | p50 ms | p99 ms | p50 alone ms | × static (rounds' low–high) "
            "| target |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
        ]  # fmt: skip
        for row in run_["results"]:
            target = row["target"]
            met = None if args.smoke else row["ratio"] >= (target or 0)
            verdict = "" if target is None else f"≥ {target}× {VERDICT[met]}"
            lines.append(
                f"| {row['name']} | {row['status']} | {row['rps']:,.0f} | {row['p50_ms']:.2f} | "
                f"{row['p99_ms']:.2f} | {alone_column(row)} | {row['ratio']:.2f} "
                f"({row['ratio_low']:.2f}–{row['ratio_high']:.2f}) | {verdict} {row['check']} |"
            )
        lines.append("")
    checks = verdicts(runs, judged=not args.smoke)
    if checks:
        title = "Targets" if not args.smoke else "Targets (smoke run: speeds not judged)"
        lines += [f"### {title}", "", "| target | measured | |", "| --- | --- | --- |"]
        for what, value, ok in checks:
            lines.append(f"| {what} | {value} | {VERDICT[ok]} |")
    table = "\n".join(lines) + "\n"
    print("\n" + table)
    sizes = "-".join(str(n) for n in args.sizes)
    name = f"{stamp}-{'-'.join(args.modes)}-{sizes}"
    (output / f"{name}.md").write_text(table)
    (output / f"{name}.json").write_text(json.dumps({"machine": machine, "runs": runs}, indent=2))
    chart(output / f"{name}.png", runs)
    print(f"Wrote {output / name}.md and .json in {time.monotonic() - started:.0f} s.")


def alone_column(row):
    return "" if row.get("p50_alone_ms") is None else f"{row['p50_alone_ms']:.2f}"


def chart(path, runs):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("No chart: matplotlib is not installed.")
        return
    figure, axes = plt.subplots(len(runs), 1, figsize=(9, 3.5 * len(runs)), squeeze=False)
    for axis, run_ in zip(axes[:, 0], runs, strict=True):
        axis.barh([row["name"] for row in run_["results"]], [row["rps"] for row in run_["results"]])
        axis.invert_yaxis()
        axis.set_xlabel("requests per second")
        axis.set_title(f"N = {run_['features']:,}, {run_['mode']}", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
