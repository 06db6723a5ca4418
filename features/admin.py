from django.contrib import admin
from django.db.models import Prefetch

from .models import Author, Byline, Download, Feature, Section


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position"]
    list_editable = ["position"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["name", "job_title", "organisation", "user"]
    list_select_related = ["user"]
    search_fields = ["name", "job_title", "organisation"]
    autocomplete_fields = ["user"]
    prepopulated_fields = {"slug": ["name"]}


class BylineInline(admin.TabularInline):
    model = Byline
    extra = 1
    autocomplete_fields = ["author"]
    fields = ["position", "author", "job_title", "organisation"]
    ordering = ["position"]


@admin.register(Feature)
class FeatureAdmin(admin.ModelAdmin):
    list_display = ["title", "section", "status", "publish_at", "updated_at"]
    list_filter = ["status", "section"]
    list_select_related = ["section"]
    search_fields = ["title", "standfirst"]
    date_hierarchy = "publish_at"
    autocomplete_fields = ["downloads"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["status", "first_published_at", "last_major_update_at"]
    inlines = [BylineInline]
    fieldsets = [
        (None, {"fields": ["title", "slug", "section", "standfirst", "body", "tags"]}),
        ("Hero image", {"fields": ["hero_image", "hero_image_alt", "hero_image_credit"]}),
        ("Downloads", {"fields": ["downloads"]}),
        (
            "Publishing",
            {
                "fields": [
                    "status", "publish_at", "first_published_at",
                    "last_major_update_at", "change_note", "review_by",
                ]
            },
        ),
    ]  # fmt: skip

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("bylines", queryset=Byline.objects.select_related("author")))
        )

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        obj.last_edited_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Download)
class DownloadAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "status", "publish_at", "summary", "download_count"]
    list_filter = ["category", "status", "accessible_format"]
    search_fields = ["title", "description"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["mime_type", "size", "page_count", "download_count"]
    fields = [
        "title", "slug", "category", "description", "file", "accessible_format",
        "status", "publish_at", "mime_type", "size", "page_count", "download_count",
    ]  # fmt: skip
