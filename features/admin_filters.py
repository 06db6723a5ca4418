"""Changelist filters for features: where a feature stands, and what needs attention."""

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html_join

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
    """
    Features by one author, chosen from a list. An archive has thousands of authors, so they
    are offered in one select box (with the other filters kept in hidden fields), not as a
    link each.
    """

    title = "author"
    parameter_name = "author"
    template = "admin/features/author_filter.html"

    def lookups(self, request, model_admin):
        return list(Author.objects.order_by("name").values_list("pk", "name"))

    def choices(self, changelist):
        chosen = self.value() or ""
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (pk, " selected" if str(pk) == chosen else "", name)
                for pk, name in self.lookup_choices
            ),
        )
        yield {
            "selected": bool(chosen),
            "options": options,
            "keep": [(k, v) for k, v in changelist.params.items() if k != self.parameter_name],
            "clear": changelist.get_query_string(remove=[self.parameter_name]),
        }

    def queryset(self, request, queryset):
        value = self.value() or ""
        if value.isascii() and value.isdigit() and len(value) <= 18:
            return queryset.filter(bylines__author_id=int(value))
        return queryset
