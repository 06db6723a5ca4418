from django.db import models


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
