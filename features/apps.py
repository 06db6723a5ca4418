from django.apps import AppConfig


class FeaturesConfig(AppConfig):
    name = "features"
    verbose_name = "Features"

    def ready(self):
        from newsroom import database

        from . import caching, signals  # noqa: F401 - signals connects its receivers

        caching.connect()
        database.connect()
