from django.db import models
from django.utils import timezone


class ExternalFeed(models.Model):
    """A feed from elsewhere in the organisation, listed on the "News feeds" page."""

    title = models.CharField(max_length=200)
    url = models.URLField("feed address", max_length=500)
    description = models.CharField(
        max_length=300, blank=True, help_text="One line on what the feed holds."
    )
    position = models.PositiveSmallIntegerField(
        default=0, help_text="Feeds are listed in this order, lowest first."
    )

    class Meta:
        ordering = ["position", "title"]
        constraints = [models.UniqueConstraint(fields=["url"], name="externalfeed_unique_url")]

    def __str__(self):
        return self.title


class ScopeChange(models.Model):
    """
    When a feed's scope (a section, tag or author, or the downloads) last lost an item in a
    way its remaining items cannot show: moved to another section, tag or author removed,
    live download deleted. Feeds put it in their Last-Modified.
    """

    key = models.CharField(max_length=60, unique=True)
    changed_at = models.DateTimeField()

    def __str__(self):
        return f"{self.key} changed {self.changed_at:%Y-%m-%d %H:%M:%S}"

    @classmethod
    def mark(cls, key):
        cls.objects.update_or_create(key=key, defaults={"changed_at": timezone.now()})
