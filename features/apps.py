from django.apps import AppConfig


class FeaturesConfig(AppConfig):
    name = "features"
    verbose_name = "Features"

    def ready(self):
        from . import signals  # noqa: F401 - connects the receivers
