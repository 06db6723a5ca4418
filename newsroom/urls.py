from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path, re_path

from features.sitemaps import sitemaps
from features.views import robots_txt

from .health import healthz
from .media import serve_media

admin.site.site_header = "Newsroom editorial"
admin.site.site_title = "Newsroom editorial"
admin.site.index_title = "Write, review and publish"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("feeds/", include("feeds.urls")),
    path("sitemap.xml", sitemap, {"sitemaps": sitemaps}, name="sitemap"),
    path("robots.txt", robots_txt, name="robots"),
    path("healthz", healthz, name="healthz"),
    path("", include("features.urls")),
]

if settings.MEDIA_URL.startswith("/") and settings.SERVE_MEDIA:
    # Media on this server's disk (the default); with S3 or a CDN, MEDIA_URL points there.
    urlpatterns.insert(
        0,
        re_path(
            rf"^{settings.MEDIA_URL.lstrip('/')}(?P<path>.*)$",
            serve_media,
            {"document_root": settings.MEDIA_ROOT},
            name="media",
        ),
    )
