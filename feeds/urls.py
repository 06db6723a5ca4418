from django.urls import path

from . import feeds, views

app_name = "feeds"

urlpatterns = [
    path("", views.FeedIndexView.as_view(), name="index"),
    path("latest.rss", feeds.LatestFeed(), name="latest-rss"),
    path("latest.atom", feeds.atom(feeds.LatestFeed)(), name="latest-atom"),
    path("sections/<slug:slug>.rss", feeds.SectionFeed(), name="section-rss"),
    path("sections/<slug:slug>.atom", feeds.atom(feeds.SectionFeed)(), name="section-atom"),
    path("tags/<slug:slug>.rss", feeds.TagFeed(), name="tag-rss"),
    path("tags/<slug:slug>.atom", feeds.atom(feeds.TagFeed)(), name="tag-atom"),
    path("authors/<slug:slug>.rss", feeds.AuthorFeed(), name="author-rss"),
    path("authors/<slug:slug>.atom", feeds.atom(feeds.AuthorFeed)(), name="author-atom"),
    path("downloads.rss", feeds.DownloadsFeed(), name="downloads-rss"),
]
