from django.contrib import admin

from .models import ExternalFeed


@admin.register(ExternalFeed)
class ExternalFeedAdmin(admin.ModelAdmin):
    list_display = ["title", "url", "position"]
    list_editable = ["position"]
    search_fields = ["title", "url"]
