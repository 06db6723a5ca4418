"""Record when a feed's scope loses a live item in a way its other items cannot show."""

from django.db.models.signals import post_delete, pre_save
from django.dispatch import receiver

from features.models import Byline, Download, Feature, TaggedFeature

from .models import ScopeChange


@receiver(pre_save, sender=Feature)
def feature_moved(sender, instance, **kwargs):
    old_section = getattr(instance, "_loaded_section_id", None)
    if getattr(instance, "_loaded_live", False) and old_section not in (None, instance.section_id):
        ScopeChange.mark(f"section:{old_section}")


@receiver(post_delete, sender=Byline)
def author_removed(sender, instance, **kwargs):
    if Feature.objects.live().filter(pk=instance.feature_id).exists():
        ScopeChange.mark(f"author:{instance.author_id}")


@receiver(post_delete, sender=TaggedFeature)
def tag_removed(sender, instance, **kwargs):
    if Feature.objects.live().filter(pk=instance.content_object_id).exists():
        ScopeChange.mark(f"tag:{instance.tag_id}")


@receiver(post_delete, sender=Download)
def download_deleted(sender, instance, **kwargs):
    if instance.is_live:
        ScopeChange.mark("downloads")
