from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class FeedsConfig(AppConfig):
    name = "feeds"
    verbose_name = "Feeds"

    def ready(self):
        from features.caching import bump

        from .models import ExternalFeed

        # The "News feeds" page lists the organisation's other feeds.
        post_save.connect(bump, sender=ExternalFeed, dispatch_uid="pages-externalfeed-saved")
        post_delete.connect(bump, sender=ExternalFeed, dispatch_uid="pages-externalfeed-deleted")

        from . import signals  # noqa: F401 - connects the scope-change receivers
