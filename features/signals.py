"""Model events with consequences elsewhere: renamed names, refused deletions."""

from django.db.models import ProtectedError
from django.db.models.signals import post_save, pre_delete
from django.dispatch import receiver
from django.utils import timezone
from taggit.models import Tag

from .models import Author, Feature, Status


@receiver(post_save, sender=Author)
def author_saved(sender, instance, created, **kwargs):
    if not created:
        Feature.objects.live().filter(bylines__author=instance).update(updated_at=timezone.now())


@receiver(post_save, sender=Tag)
def tag_saved(sender, instance, created, **kwargs):
    if not created:
        Feature.objects.live().filter(tags=instance).update(updated_at=timezone.now())


@receiver(pre_delete, sender=Feature)
def refuse_deleting_published(sender, instance, **kwargs):
    """A published feature leaves through Unpublish or Withdraw, which feeds can follow."""
    if instance.status == Status.PUBLISHED:
        raise ProtectedError(
            f"“{instance.title}” is published: unpublish or withdraw it before deleting it.",
            {instance},
        )
