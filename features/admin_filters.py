"""Changelist filters for features: where a feature stands, and what needs attention."""

from django.contrib import admin
from django.utils import timezone

from .models import Author, Status


class PublicationFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("draft", "Draft"),
            ("in_review", "In review"),
            ("live", "Published and live"),
            ("scheduled", "Scheduled"),
            ("withdrawn", "Withdrawn"),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        match self.value():
            case "draft":
                return queryset.filter(status=Status.DRAFT)
            case "in_review":
                return queryset.filter(status=Status.IN_REVIEW)
            case "live":
                return queryset.live()
            case "scheduled":
                return queryset.filter(status=Status.PUBLISHED, publish_at__gt=now)
            case "withdrawn":
                return queryset.filter(status=Status.WITHDRAWN)
        return queryset


class NeedsApprovalFilter(admin.SimpleListFilter):
    title = "retrospective approval"
    parameter_name = "approval"

    def lookups(self, request, model_admin):
        return [("needed", "Needs retrospective approval")]

    def queryset(self, request, queryset):
        if self.value() == "needed":
            return queryset.filter(needs_approval=True)
        return queryset


class ReviewOverdueFilter(admin.SimpleListFilter):
    title = "review by date"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("overdue", "Review overdue"), ("set", "Has a review date")]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "overdue":
            return queryset.filter(review_by__lt=today).exclude(status=Status.WITHDRAWN)
        if self.value() == "set":
            return queryset.filter(review_by__isnull=False)
        return queryset


class AuthorFilter(admin.SimpleListFilter):
    title = "author"
    parameter_name = "author"

    def lookups(self, request, model_admin):
        return [(str(author.pk), author.name) for author in Author.objects.only("pk", "name")]

    def queryset(self, request, queryset):
        value = self.value() or ""
        if value.isascii() and value.isdigit() and len(value) <= 18:
            return queryset.filter(bylines__author_id=int(value))
        return queryset
