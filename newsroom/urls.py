from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from features.sitemaps import sitemaps
from features.views import robots_txt

admin.site.site_header = "Newsroom editorial"
admin.site.site_title = "Newsroom editorial"
admin.site.index_title = "Write, review and publish"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("feeds/", include("feeds.urls")),
    path("sitemap.xml", sitemap, {"sitemaps": sitemaps}, name="sitemap"),
    path("robots.txt", robots_txt, name="robots"),
    path("", include("features.urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
