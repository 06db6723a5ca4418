"""The public site under /magazine/: a URLconf for the tests of remembered addresses."""

from django.urls import include, path

urlpatterns = [path("magazine/", include("features.urls"))]
