from datetime import timedelta

from django import template
from django.urls import reverse
from django.utils import timezone

from features import workflow
from features.models import Feature, Status

register = template.Library()


@register.simple_tag
def attention(user):
    """What needs this user's attention, for the admin's front page."""
    now = timezone.now()
    changelist = reverse("admin:features_feature_changelist")
    features = Feature.objects.only("pk", "title", "publish_at", "status").order_by("publish_at")
    editor = workflow.is_editor(user)
    if not editor:
        features = features.filter(pk__in=workflow.own_features(user).values("pk"))
    panels = [
        (
            "Awaiting review" if editor else "Your features in review",
            features.filter(status=Status.IN_REVIEW).order_by("-updated_at"),
            f"{changelist}?state=in_review",
            False,
        ),
        (
            "Scheduled to go live in the next seven days",
            features.filter(
                status=Status.PUBLISHED, publish_at__gt=now, publish_at__lte=now + timedelta(days=7)
            ),
            f"{changelist}?state=scheduled",
            True,
        ),
        (
            "Awaiting retrospective approval",
            features.filter(needs_approval=True),
            f"{changelist}?approval=needed",
            False,
        ),
        (
            "Overdue for review",
            features.filter(review_by__lt=timezone.localdate()).exclude(status=Status.WITHDRAWN),
            f"{changelist}?review=overdue",
            False,
        ),
    ]
    shown = 10
    result = []
    for title, queryset, url, show_time in panels:
        items = list(queryset[: shown + 1])
        result.append(
            {
                "title": title,
                "items": items[:shown],
                "more": len(items) > shown,
                "url": url,
                "show_time": show_time,
            }
        )
    return result
