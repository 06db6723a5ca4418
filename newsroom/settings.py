"""
Settings for Newsroom: one module, read from the environment.

The defaults suit a developer's machine (SQLite, local-memory cache, DEBUG on).
Production sets DJANGO_DEBUG=false, DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS,
DATABASE_URL and REDIS_URL; see docs/configuration.md.
"""

import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default):
    value = os.environ.get(name, "")
    items = [item.strip() for item in value.split(",") if item.strip()]
    return items or default


DEVELOPMENT_SECRET_KEY = "development-only-key-never-use-in-production"  # noqa: S105

DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or DEVELOPMENT_SECRET_KEY
if not DEBUG and SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_DEBUG is off but DJANGO_SECRET_KEY is not set: refusing to run "
        "production with the development secret key. Set DJANGO_SECRET_KEY to a long "
        "random value (python -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.humanize",
    "taggit",
    "reversion",
    "django_prose_editor",
    "features",
    "feeds",
    "csp",
    "axes",
]

MIDDLEWARE = [
    # First, so the pages it stores are what leaves Django, every header included. In
    # gunicorn its hits are served even earlier, by the WSGI front (newsroom/wsgi.py).
    "features.caching.PublicPageCacheMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # ETags and 304s for every page, cached or not.
    "django.middleware.http.ConditionalGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "newsroom.middleware.AdminContentSecurityPolicyMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lock-out page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "newsroom.urls"
WSGI_APPLICATION = "newsroom.wsgi.application"

TEMPLATES = [
    # The public site's pages (newsroom/templating.py); the admin's are Django's, below.
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            "environment": "newsroom.templating.environment",
            "context_processors": ["features.context_processors.site"],
        },
    },
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "features.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}


def postgresql_options(threshold):
    """
    Parameters travel apart from the SQL, so a query that a connection runs again and again
    (every page's are) is kept as a prepared statement after ``threshold`` runs and parsed
    once (docs/performance.md). "off": Django's own way, each query written out in full,
    for a pooler that cannot keep prepared statements (PgBouncer in transaction mode before
    1.21).
    """
    threshold = (threshold or "5").strip().lower()
    if threshold in {"off", "none", "no"}:
        return {}
    if not re.fullmatch(r"[0-9]+", threshold):
        raise ImproperlyConfigured(
            f"DATABASE_PREPARE_THRESHOLD must be a number of runs or 'off', not {threshold!r}"
        )
    return {"server_side_binding": True, "prepare_threshold": int(threshold)}


if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["OPTIONS"] = {
        **postgresql_options(os.environ.get("DATABASE_PREPARE_THRESHOLD")),
        **DATABASES["default"].get("OPTIONS", {}),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
NO_CACHE = os.environ.get("NEWSROOM_CACHE") == "dummy"
if NO_CACHE:
    # Every cache switched off: the benchmark's "uncached" runs measure the views alone.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
elif REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "newsroom.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "newsroom"),
            # A cache that does not answer quickly is treated as down: pages come from
            # the database instead.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "newsroom",
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# A British site: dates read "25 March 2009", times are shown in London time
# and stored in UTC.
LANGUAGE_CODE = "en-gb"
# Our own en-GB formats: "25 March 2009", and every date-time names its zone
# ("25 March 2009, 09:00 GMT"), in the admin as on the site.
FORMAT_MODULE_PATH = ["newsroom.formats"]
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = os.environ.get("DJANGO_MEDIA_URL", "/media/")
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "media"))
# Serve MEDIA_ROOT from the app (single-server set-ups); off when media live on S3.
SERVE_MEDIA = env_bool("NEWSROOM_SERVE_MEDIA", True)

# Uploaded files live on this server's disk unless an S3-compatible bucket is configured
# (AWS_STORAGE_BUCKET_NAME, with AWS_S3_ENDPOINT_URL for non-Amazon services): then every
# app server shares the bucket, and MEDIA_URL is the bucket's or its CDN's address.
AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
if AWS_STORAGE_BUCKET_NAME:
    DEFAULT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
            "custom_domain": os.environ.get("AWS_S3_CUSTOM_DOMAIN") or None,
            "location": "media",
            "querystring_auth": False,
            "file_overwrite": False,
            "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
        },
    }
    SERVE_MEDIA = False
else:
    DEFAULT_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}

# Download files never sit under MEDIA_URL: drafts and scheduled ones must not be
# reachable, so every file goes through the download view, which checks and counts it.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("DJANGO_PRIVATE_MEDIA_ROOT", BASE_DIR / "private"))
if AWS_STORAGE_BUCKET_NAME:
    DOWNLOADS_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {**DEFAULT_STORAGE["OPTIONS"], "location": "private",
                    "querystring_auth": True, "custom_domain": None, "object_parameters": {}},
    }  # fmt: skip
else:
    DOWNLOADS_STORAGE = {"BACKEND": "features.files.PrivateStorage"}

STORAGES = {
    "default": DEFAULT_STORAGE,
    "downloads": DOWNLOADS_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

TAGGIT_CASE_INSENSITIVE = True
# Tag slugs are ASCII ("Café" -> "cafe") so every tag has a valid address.
TAGGIT_STRIP_UNICODE_WHEN_SLUGIFYING = True

# What the site says about itself; used in titles, feeds and structured data.
NEWSROOM = {
    "SITE_NAME": os.environ.get("NEWSROOM_SITE_NAME", "Newsroom"),
    "TAGLINE": os.environ.get(
        "NEWSROOM_TAGLINE", "News, features and views from across the organisation"
    ),
    "PUBLISHER": os.environ.get("NEWSROOM_PUBLISHER", "Newsroom"),
    "CONTACT_EMAIL": os.environ.get("NEWSROOM_CONTACT_EMAIL", "communications@example.org"),
    "FEATURES_PER_PAGE": int(os.environ.get("NEWSROOM_FEATURES_PER_PAGE", "12")),
    "HOME_FEATURES": 7,
    "SEARCH_MAX_LENGTH": 200,
    # Search ranks the newest matches, at most this many (docs/decisions.md, Search).
    "SEARCH_MATCHES": int(os.environ.get("NEWSROOM_SEARCH_MATCHES", "500")),
    "FEED_ITEMS": int(os.environ.get("NEWSROOM_FEED_ITEMS", "20")),
    # Public pages: seconds browsers and CDNs may keep them, and our own cache keeps them
    # (both cut short by the next scheduled go-live; our cache is emptied on any change).
    # On by default only where the cache is shared by every process: Redis, or the one
    # process of the development server. Several gunicorn workers with local memory would
    # each keep their own copy and could not all be emptied. Never with every cache off.
    "PAGE_CACHE": env_bool("NEWSROOM_PAGE_CACHE", bool(REDIS_URL) or DEBUG) and not NO_CACHE,
    "PAGE_MAX_AGE": int(os.environ.get("NEWSROOM_PAGE_MAX_AGE", "60")),
    "PAGE_CACHE_SECONDS": int(os.environ.get("NEWSROOM_PAGE_CACHE_SECONDS", "600")),
    # Uploaded images: the largest file and the most pixels accepted.
    "IMAGE_MAX_BYTES": int(os.environ.get("NEWSROOM_IMAGE_MAX_BYTES", str(10 * 1024 * 1024))),
    "IMAGE_MAX_PIXELS": int(os.environ.get("NEWSROOM_IMAGE_MAX_PIXELS", "40000000")),
    # Downloads: the types offered (judged by content, never by name) and the largest file.
    "DOWNLOAD_TYPES": env_list(
        "NEWSROOM_DOWNLOAD_TYPES",
        [
            "application/pdf",
            "application/msword",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.ms-excel",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.oasis.opendocument.text",
            "application/vnd.oasis.opendocument.spreadsheet",
            "application/vnd.oasis.opendocument.presentation",
            "text/csv",
            "text/plain",
            "application/zip",
        ],
    ),
    "DOWNLOAD_MAX_BYTES": int(os.environ.get("NEWSROOM_DOWNLOAD_MAX_BYTES", str(50 * 1024 * 1024))),
    # Seconds a feed reader or CDN may keep a feed (less when something is scheduled).
    "FEED_MAX_AGE": int(os.environ.get("NEWSROOM_FEED_MAX_AGE", "300")),
    # The authority in every feed item's permanent id (tag:<authority>,2009:feature:<pk>).
    # Set it once, to a domain the organisation owns, and never change it.
    "FEED_ID_AUTHORITY": os.environ.get("NEWSROOM_FEED_ID_AUTHORITY", "newsroom.example.org"),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
}

# Security headers everywhere.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Production runs behind a load balancer that ends TLS and says so in X-Forwarded-Proto;
# plain HTTP is redirected to HTTPS, except the health check the balancer itself makes.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# Content-Security-Policy of the public site (django-csp). It runs no script of ours;
# images may also come from a media host (S3 or a CDN) when one is configured.
MEDIA_ORIGINS = env_list("NEWSROOM_MEDIA_ORIGINS", [])
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/admin/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", *MEDIA_ORIGINS],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# The admin's own policy (newsroom/middleware.py): its widgets and the rich-text editor
# need inline scripts and styles; it is for signed-in staff only.
ADMIN_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    f"img-src 'self' data: blob: {' '.join(MEDIA_ORIGINS)}; font-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)

# Login throttling (django-axes): five failures for one user name from one address lock
# that pair out for 15 minutes, with a page that says so.
AXES_FAILURE_LIMIT = int(os.environ.get("NEWSROOM_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("NEWSROOM_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "newsroom.middleware.locked_out"
AXES_CLIENT_IP_CALLABLE = "newsroom.middleware.client_ip"
# How many proxies (load balancers) stand in front of the app and add X-Forwarded-For.
TRUSTED_PROXY_COUNT = int(os.environ.get("DJANGO_TRUSTED_PROXY_COUNT", "0" if DEBUG else "1"))
