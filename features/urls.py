from django.urls import path
from django.views.generic import TemplateView

from . import views

app_name = "features"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("features/", views.FeatureListView.as_view(), name="list"),
    path("features/<slug:slug>/", views.FeatureDetailView.as_view(), name="detail"),
    path("sections/<slug:slug>/", views.SectionView.as_view(), name="section"),
    path("authors/<slug:slug>/", views.AuthorView.as_view(), name="author"),
    path("tags/<slug:slug>/", views.TagView.as_view(), name="tag"),
    path("downloads/", views.DownloadListView.as_view(), name="downloads"),
    path("downloads/<slug:slug>/", views.download_file, name="download"),
    path(
        "downloads/<slug:slug>/versions/<int:pk>/",
        views.download_version,
        name="download-version",
    ),
    path("search/", views.SearchView.as_view(), name="search"),
    path("preview/<str:token>/", views.preview_link, name="preview"),
    path(
        "accessibility/",
        TemplateView.as_view(template_name="features/accessibility.html"),
        name="accessibility",
    ),
]
