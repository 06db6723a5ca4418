from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django_prose_editor.widgets import AdminProseEditorWidget
from reversion.admin import VersionAdmin
from reversion.models import Version
from taggit import admin as taggit_admin
from taggit.forms import MergeTagsForm
from taggit.models import Tag

from . import workflow
from .admin_filters import (
    AuthorFilter,
    NeedsApprovalFilter,
    PublicationFilter,
    ReviewOverdueFilter,
)
from .admin_views import compare_view, conflict_response, transition_view
from .formatting import local_datetime
from .models import (
    Author,
    Byline,
    Download,
    DownloadVersion,
    Feature,
    PreviewLink,
    PreviewLinkUse,
    Section,
    TaggedFeature,
    Transition,
    bylines_prefetch,
)

# A revert restores what editors wrote; these stay as they are now.
KEPT_ON_REVERT = [
    "status", "publish_at", "first_published_at", "last_major_update_at", "change_note",
    "needs_approval", "submitted_by", "withdrawn_at", "withdrawal_notice", "version",
    "created_at", "created_by", "last_edited_by", "updated_at", "left_public_at", "source_id",
]  # fmt: skip

# Posted by nobody but a tampering hand: the workflow owns these fields.
WORKFLOW_OWNED_FIELDS = {
    "status", "publish_at", "publish_at_0", "publish_at_1", "first_published_at",
    "needs_approval", "submitted_by", "withdrawn_at", "withdrawal_notice",
    "last_major_update_at",
}  # fmt: skip


class EditConflict(Exception):
    """The feature was saved by someone else after this form was opened."""


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
    fields = ["name", "slug", "job_title", "organisation", "bio", "photo", "photo_alt", "user"]


class BylineInline(admin.TabularInline):
    model = Byline
    extra = 0
    min_num = 0
    autocomplete_fields = ["author"]
    fields = ["position", "author", "job_title", "organisation"]
    ordering = ["position", "pk"]
    verbose_name = "author"
    verbose_name_plural = "Byline (authors in order: lowest position first)"


class PreviewLinkForm(forms.ModelForm):
    revoke = forms.BooleanField(
        required=False, help_text="Stops the link working at once. Its use log is kept."
    )

    class Meta:
        model = PreviewLink
        fields = ["note", "expires_at"]


class PreviewLinkInline(admin.TabularInline):
    """Preview links for people without an account; editors make and revoke them."""

    model = PreviewLink
    form = PreviewLinkForm
    extra = 0
    view_on_site = False
    fields = ["note", "expires_at", "address", "state", "use_summary", "revoke"]
    readonly_fields = ["address", "state", "use_summary"]
    verbose_name = "preview link"
    verbose_name_plural = "Preview links for people without an account"

    def has_view_permission(self, request, obj=None):
        return workflow.is_editor(request.user)

    def has_add_permission(self, request, obj=None):
        return workflow.is_editor(request.user)

    def has_change_permission(self, request, obj=None):
        return workflow.is_editor(request.user)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by").prefetch_related("uses")

    @admin.display(description="address")
    def address(self, link):
        if not link.pk:
            return "Made when you save."
        return format_html(
            '<input type="text" readonly value="{}" aria-label="Preview address" size="40">',
            link.get_absolute_url(),
        )

    @admin.display(description="state")
    def state(self, link):
        if not link.pk:
            return "—"
        if link.revoked_at:
            return f"Revoked {local_datetime(link.revoked_at)}"
        if not link.is_active:
            return f"Expired {local_datetime(link.expires_at)}"
        return f"Active until {local_datetime(link.expires_at)}"

    @admin.display(description="uses")
    def use_summary(self, link):
        uses = list(link.uses.all()) if link.pk else []
        if not uses:
            return "Not used yet"
        url = reverse("admin:features_previewlinkuse_changelist") + f"?link__id__exact={link.pk}"
        return format_html(
            '<a href="{}">{} use{}</a>, last {}',
            url, len(uses), "" if len(uses) == 1 else "s", local_datetime(uses[0].used_at),
        )  # fmt: skip


class FeatureAdminForm(forms.ModelForm):
    # The version this edit started from; a save from an older one is a conflict.
    base_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    tags = forms.ModelMultipleChoiceField(
        Tag.objects.order_by("name"),
        required=False,
        widget=AutocompleteSelectMultiple(Feature._meta.get_field("tags"), admin.site),
        help_text="Start typing to choose existing tags.",
    )
    new_tags = forms.CharField(
        required=False,
        help_text="Tags that do not exist yet, separated by commas.",
    )
    minor_change = forms.BooleanField(
        required=False,
        label="Minor change",
        help_text="Tick for a typo or small fix: readers are not told and the “updated” "
        "date stays as it is.",
    )
    update_note = forms.CharField(
        required=False,
        label="Change note",
        max_length=300,
        widget=forms.TextInput(attrs={"size": 80}),
        help_text="For a major change to a published feature: what changed, as readers will "
        "see it, e.g. “Corrected the date of the conference”.",
    )

    class Meta:
        model = Feature
        widgets = {
            # The editor offers what the sanitiser keeps (features/sanitise.py).
            "body": AdminProseEditorWidget(
                preset="configurable",
                config={
                    "extensions": {
                        "Bold": True, "Italic": True, "Underline": True,
                        "Subscript": True, "Superscript": True,
                        "Heading": {"levels": [2, 3, 4]},
                        "BulletList": True, "OrderedList": True, "ListItem": True,
                        "Blockquote": True, "HardBreak": True, "HorizontalRule": True,
                        "Link": {"protocols": ["http", "https", "mailto", "tel"]},
                        "Table": True, "TableRow": True, "TableHeader": True,
                        "TableCell": True, "HTML": True, "SpecialCharacters": True,
                    }
                },
            )
        }  # fmt: skip
        fields = [
            "title", "slug", "section", "standfirst", "body", "tags", "hero_image",
            "hero_image_alt", "hero_image_credit", "downloads", "review_by",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "base_version" in self.fields and self.instance.pk:
            self.fields["base_version"].initial = self.instance.version

    def clean(self):
        cleaned = super().clean()
        tampered = sorted(WORKFLOW_OWNED_FIELDS & set(self.data))
        if tampered:
            raise forms.ValidationError(
                "The status and publication time change only through the workflow buttons "
                "(Submit, Publish, …). Nothing was saved.",
                code="workflow_owned",
            )
        # Commas separate tags; spaces belong to them ("Clinical quality" is one tag).
        new_tags = list(
            dict.fromkeys(
                name.strip() for name in cleaned.get("new_tags", "").split(",") if name.strip()
            )
        )
        unnamed = [name for name in new_tags if not Tag().slugify(name)]
        if unnamed:
            self.add_error(
                "new_tags",
                f"These tags need at least one letter or digit: {', '.join(unnamed)}.",
            )
        elif "tags" in cleaned:
            cleaned["tags"] = list(cleaned.get("tags") or []) + new_tags
        if self.is_major_update() and not cleaned.get("update_note", "").strip():
            self.add_error(
                "update_note",
                "This feature is published: say what changed for readers, or tick “Minor change”.",
            )
        return cleaned

    # Set by the admin when this form reverts to an older version.
    reverting = False

    def is_major_update(self):
        changed = bool(set(self.changed_data) - {"minor_change", "update_note", "base_version"})
        return (
            self.instance.pk is not None
            and self.instance.is_live
            and "minor_change" in self.fields
            and not self.cleaned_data.get("minor_change")
            and (changed or self.reverting)
        )


@admin.register(Feature)
class FeatureAdmin(VersionAdmin):
    form = FeatureAdminForm
    list_display = [
        "title", "section", "status_label", "author_names", "publish_time",
        "last_edited_by", "updated_time",
    ]  # fmt: skip
    list_filter = [
        PublicationFilter, NeedsApprovalFilter, ReviewOverdueFilter, "section", AuthorFilter,
    ]  # fmt: skip
    list_select_related = ["section", "last_edited_by"]
    list_per_page = 50
    search_fields = ["title", "standfirst", "bylines__author__name"]
    date_hierarchy = "publish_at"
    show_full_result_count = False
    autocomplete_fields = ["downloads", "section"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [BylineInline, PreviewLinkInline]
    actions = ["submit_selected", "publish_selected", "approve_selected", "unpublish_selected",
               "restore_selected"]  # fmt: skip
    change_form_template = "admin/features/feature/change_form.html"
    change_list_template = "admin/features/feature/change_list.html"
    object_history_template = "admin/features/feature/object_history.html"

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ["title", "slug", "section", "standfirst", "body"]}),
            ("Tags", {"fields": ["tags", "new_tags"]}),
            ("Hero image", {"fields": ["hero_image", "hero_image_alt", "hero_image_credit"]}),
            ("Related downloads", {"fields": ["downloads"]}),
            (
                "Publishing",
                {
                    "fields": [
                        "status_summary", "publish_time", "first_published_time",
                        "last_updated_summary", "review_by", "base_version",
                    ],
                    "description": "Times are UK time (GMT or BST, as shown). The status and "
                    "publication time change only through the workflow buttons below.",
                },
            ),
        ]  # fmt: skip
        if obj is not None and obj.is_live:
            fieldsets.insert(
                1,
                (
                    "This feature is published",
                    {
                        "fields": ["minor_change", "update_note"],
                        "description": "Readers see the change note and an “Updated” date "
                        "for a major change.",
                    },
                ),
            )
        return fieldsets

    readonly_fields = [
        "status_summary", "publish_time", "first_published_time", "last_updated_summary",
    ]  # fmt: skip

    # What the list of features never shows: left in the database when it is drawn.
    NOT_LISTED = ["body", "body_text", "standfirst", "hero_image_renditions", "withdrawal_notice"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        match = request.resolver_match
        if request.method == "GET" and match and match.url_name == "features_feature_changelist":
            # The list names each author: nothing else of a byline or its author is read.
            bylines = bylines_prefetch(("feature_id", "author_id", "position"), ("name",))
            return queryset.defer(*self.NOT_LISTED).prefetch_related(*bylines)
        return queryset.prefetch_related(
            Prefetch("bylines", queryset=Byline.objects.select_related("author"))
        )

    def action_checkbox(self, feature):
        # Django's own checkbox markup, without rendering a widget template for every row.
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME, feature.pk,
            f"Select this object for an action - {feature}",
        )  # fmt: skip

    # Who may do what: the rules live in features.workflow.

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or workflow.may_edit(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        # A feature that has ever been published leaves through Unpublish or Withdraw,
        # which feeds and the audit trail follow; only never-published work is deleted.
        if obj is not None and not workflow.may_delete(obj):
            return False
        return workflow.is_editor(request.user) and super().has_delete_permission(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if getattr(request, "kept_on_revert", None):
            form = type(form.__name__, (form,), {"reverting": True})
        return form

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_publish_permission(self, request):
        return workflow.is_editor(request.user)

    # Columns.

    @admin.display(description="status", ordering="status")
    def status_label(self, feature):
        if feature.is_scheduled:
            label = f"Scheduled for {local_datetime(feature.publish_at)}"
        else:
            label = feature.get_status_display()
        if feature.needs_approval:
            label += " (needs retrospective approval)"
        return label

    @admin.display(description="authors")
    def author_names(self, feature):
        return ", ".join(byline.author.name for byline in feature.bylines.all()) or "—"

    @admin.display(description="publish time (UK)", ordering="publish_at")
    def publish_time(self, feature):
        return local_datetime(feature.publish_at)

    @admin.display(description="last saved (UK)", ordering="updated_at")
    def updated_time(self, feature):
        return local_datetime(feature.updated_at)

    @admin.display(description="first published (UK)")
    def first_published_time(self, feature):
        return local_datetime(feature.first_published_at)

    @admin.display(description="status")
    def status_summary(self, feature):
        return self.status_label(feature) if feature.pk else "Draft (not saved yet)"

    @admin.display(description="last updated")
    def last_updated_summary(self, feature):
        if not feature.last_major_update_at:
            return "—"
        note = f": {feature.change_note}" if feature.change_note else ""
        return f"{local_datetime(feature.last_major_update_at)}{note}"

    # Saving.

    def save_model(self, request, obj, form, change):
        if change:
            expected = form.cleaned_data.get("base_version")
            claimed = Feature.objects.filter(pk=obj.pk, version=expected).update(
                version=F("version") + 1
            )
            if not claimed:
                raise EditConflict
            obj.version = expected + 1
        else:
            obj.created_by = request.user
        obj.last_edited_by = request.user
        if form.is_major_update():
            obj.last_major_update_at = timezone.now()
            obj.change_note = form.cleaned_data["update_note"].strip()
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        if formset.model is PreviewLink:
            links = formset.save(commit=False)
            for link in links:
                if link.pk is None:
                    link.created_by = request.user
                link.save()
            for link_form in formset.forms:
                link = link_form.instance
                if link.pk and link_form.cleaned_data.get("revoke") and not link.revoked_at:
                    link.revoked_at = timezone.now()
                    link.save(update_fields=["revoked_at"])
            return
        super().save_formset(request, form, formset, change)

    def revision_view(self, request, object_id, version_id, extra_context=None):
        """
        Revert to an older version of what editors wrote. The row is locked while
        django-reversion rolls it back, and everything the workflow owns (status, times,
        version) and every byline role fixed at publication is put back as it is now.
        """
        if not str(object_id).isdecimal() or not str(version_id).isdecimal():
            raise Http404("No such version.")
        with transaction.atomic():
            current = Feature.objects.select_for_update().filter(pk=object_id).first()
            if current is None:
                raise Http404("No such feature.")
            if request.method == "POST":
                problem = self.edit_problem(request, current)
                if problem:
                    return problem
            request.kept_on_revert = {
                name: getattr(current, Feature._meta.get_field(name).attname)
                for name in KEPT_ON_REVERT
            }
            request.kept_roles = {
                byline.author_id: (byline.job_title, byline.organisation)
                for byline in current.bylines.filter(role_frozen=True)
            }
            return super().revision_view(request, object_id, version_id, extra_context)

    def restore_after_revert(self, request, object_id):
        kept = {
            Feature._meta.get_field(name).attname: value
            for name, value in request.kept_on_revert.items()
        }
        Feature.objects.filter(pk=object_id).update(**kept)
        for author_id, (job_title, organisation) in request.kept_roles.items():
            Byline.objects.filter(feature_id=object_id, author_id=author_id).update(
                job_title=job_title, organisation=organisation, role_frozen=True
            )

    def edit_problem(self, request, current):
        """A stale edit shows both versions to anyone who may see them; else forbidden."""
        stale = request.POST.get("base_version", "") != str(current.version)
        if stale and self.has_view_or_change_permission(request, current):
            return conflict_response(self, request, current)
        if not self.has_change_permission(request, current):
            raise PermissionDenied
        return None

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if getattr(request, "kept_on_revert", None) and object_id:
            self.restore_after_revert(request, unquote(object_id))
        elif request.method == "POST" and object_id:
            current = self.get_object(request, unquote(object_id))
            problem = current and self.edit_problem(request, current)
            if problem:
                return problem
        try:
            with transaction.atomic():
                return super().changeform_view(request, object_id, form_url, extra_context)
        except EditConflict:
            return conflict_response(self, request, self.get_object(request, object_id))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk:
            context["workflow_actions"] = workflow.allowed_actions(obj, request.user)
            context["transitions"] = list(obj.transitions.select_related("actor")[:50])
            latest = context["transitions"][0] if context["transitions"] else None
            # Shown only while being sent back is the last thing that happened.
            context["sent_back"] = latest if latest and latest.action == "send_back" else None
            context["live"] = obj.is_live
            context["may_preview"] = obj.is_live or workflow.may_preview(request.user, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        return [
            path(
                "<int:pk>/workflow/<str:action>/",
                self.admin_site.admin_view(self.workflow_view),
                name="features_feature_workflow",
            ),
            path(
                "<int:pk>/history/compare/",
                self.admin_site.admin_view(self.compare_view),
                name="features_feature_compare",
            ),
            # Deleted features are not brought back around the workflow: no "recover".
            *(url for url in super().get_urls() if "recover" not in (url.name or "")),
        ]

    def history_view(self, request, object_id, extra_context=None):
        versions = (
            Version.objects.get_for_object_reference(Feature, unquote(object_id))
            .select_related("revision__user")
            .order_by("-revision__date_created", "-pk")
        )
        action_list = [
            {
                "revision": version.revision,
                "version_id": version.pk,
                "url": reverse(
                    "admin:features_feature_revision", args=[version.object_id, version.pk]
                ),
            }
            for version in versions
        ]
        return super().history_view(
            request, object_id, {"action_list": action_list, **(extra_context or {})}
        )

    def workflow_view(self, request, pk, action):
        return transition_view(self, request, get_object_or_404(Feature, pk=pk), action)

    def compare_view(self, request, pk):
        feature = get_object_or_404(Feature, pk=pk)
        if not self.has_view_or_change_permission(request, feature):
            raise PermissionDenied
        return compare_view(self, request, feature)

    # Bulk actions: each goes through the same workflow call as the buttons.

    def _bulk(self, request, queryset, name, done_label):
        done, refused = 0, []
        for feature in queryset:
            try:
                getattr(workflow, name)(feature, by=request.user)
            except workflow.WorkflowError as error:
                refused.append(f"“{feature.title}”: {error}")
            else:
                done += 1
        if done:
            self.message_user(
                request,
                f"{done_label} {done} feature{'s' if done != 1 else ''}.",
                messages.SUCCESS,
            )
        for reason in refused:
            self.message_user(request, f"Not changed — {reason}", messages.WARNING)

    @admin.action(description="Submit selected features for review", permissions=["change"])
    def submit_selected(self, request, queryset):
        self._bulk(request, queryset, "submit", "Submitted for review:")

    @admin.action(description="Publish selected features now", permissions=["publish"])
    def publish_selected(self, request, queryset):
        self._bulk(request, queryset, "publish", "Published")

    @admin.action(description="Approve selected force-published features", permissions=["publish"])
    def approve_selected(self, request, queryset):
        self._bulk(request, queryset, "approve", "Approved")

    @admin.action(description="Unpublish selected features", permissions=["publish"])
    def unpublish_selected(self, request, queryset):
        self._bulk(request, queryset, "unpublish", "Unpublished")

    @admin.action(description="Restore selected withdrawn features to draft",
                  permissions=["publish"])  # fmt: skip
    def restore_selected(self, request, queryset):
        self._bulk(request, queryset, "restore", "Restored to draft:")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records kept by the system: to be read and filtered, never written by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Transition)
class TransitionAdmin(ReadOnlyAdmin):
    """The audit trail: read only, filterable."""

    list_display = ["when", "feature", "action_label", "from_status", "to_status", "actor",
                    "comment"]  # fmt: skip
    list_filter = ["action", "to_status", "from_status", "actor"]
    list_select_related = ["feature", "actor"]
    search_fields = ["feature__title", "comment"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description="when (UK)", ordering="created_at")
    def when(self, transition):
        return local_datetime(transition.created_at)

    @admin.display(description="action", ordering="action")
    def action_label(self, transition):
        return transition.get_action_display()


@admin.register(PreviewLinkUse)
class PreviewLinkUseAdmin(ReadOnlyAdmin):
    list_display = ["used", "link", "ip_address", "user_agent"]
    list_filter = ["link__feature"]
    list_select_related = ["link__feature"]

    def has_module_permission(self, request):
        return workflow.is_editor(request.user)

    def has_view_permission(self, request, obj=None):
        return workflow.is_editor(request.user)

    @admin.display(description="used (UK)", ordering="used_at")
    def used(self, use):
        return local_datetime(use.used_at)


class DownloadVersionInline(admin.TabularInline):
    model = DownloadVersion
    extra = 0
    fields = ["file", "summary", "uploaded", "replaced"]
    readonly_fields = fields
    verbose_name = "earlier version"
    verbose_name_plural = "Earlier versions (kept at their own addresses)"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="uploaded (UK)")
    def uploaded(self, version):
        return local_datetime(version.uploaded_at)

    @admin.display(description="replaced (UK)")
    def replaced(self, version):
        return local_datetime(version.replaced_at)


@admin.register(Download)
class DownloadAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "status", "publish_time", "summary", "download_count"]
    list_filter = ["category", "status", "accessible_format"]
    search_fields = ["title", "description"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["summary", "download_count", "file_uploaded", "used_in"]
    fields = [
        "title", "slug", "category", "description", "file", "summary", "file_uploaded",
        "accessible_format", "status", "publish_at", "download_count", "used_in",
    ]  # fmt: skip
    inlines = [DownloadVersionInline]

    def get_readonly_fields(self, request, obj=None):
        # Once public, a download's address is permanent: its slug no longer changes.
        if obj is not None and (obj.is_live or obj.left_public_at or obj.versions.exists()):
            return [*self.readonly_fields, "slug"]
        return self.readonly_fields

    def get_prepopulated_fields(self, request, obj=None):
        return (
            {}
            if "slug" in self.get_readonly_fields(request, obj)
            else super().get_prepopulated_fields(request, obj)
        )

    @admin.display(description="what readers get")
    def summary(self, download):
        return download.summary if download.pk else "Worked out from the file when saved."

    @admin.display(description="file uploaded (UK)")
    def file_uploaded(self, download):
        return local_datetime(download.file_updated_at or download.created_at)

    @admin.display(description="features that link to it")
    def used_in(self, download):
        features = download.features.order_by("title") if download.pk else []
        if not features:
            return "None yet."
        return format_html_join(
            ", ",
            '<a href="{}">{}</a> ({})',
            (
                (
                    reverse("admin:features_feature_change", args=[f.pk]),
                    f.title,
                    f.get_status_display().lower(),
                )
                for f in features
            ),
        )

    @admin.display(description="publish time (UK)", ordering="publish_at")
    def publish_time(self, download):
        return local_datetime(download.publish_at)


# Features' tags live in TaggedFeature (docs/decisions.md): taggit's own Tag admin merges
# and lists the rows of its generic table only, so it is replaced by one that knows ours.
admin.site.unregister(Tag)


@admin.register(Tag)
class TagAdmin(taggit_admin.TagAdmin):
    inlines = []  # a tag on a thousand features would list them all: its public page does

    def merge_tags_view(self, request):
        selected = [
            pk for pk in request.session.get("selected_tag_ids", "").split(",") if pk.isdecimal()
        ]
        if request.method == "POST":
            form = MergeTagsForm(request.POST)
            if form.is_valid():
                with transaction.atomic():
                    target = Tag.objects.get_or_create(name=form.cleaned_data["new_tag_name"])[0]
                    tagged = set(
                        TaggedFeature.objects.filter(tag=target).values_list(
                            "content_object_id", flat=True
                        )
                    )
                    merging = TaggedFeature.objects.filter(tag_id__in=selected).exclude(tag=target)
                    for tagging in merging.select_for_update():
                        if tagging.content_object_id in tagged:
                            tagging.delete()  # the feature has the merged tag already
                        else:
                            tagging.tag = target
                            tagging.save(update_fields=["tag"])
                            tagged.add(tagging.content_object_id)
                self.message_user(request, f"Tags merged into “{target}”.", messages.SUCCESS)
                request.session.pop("selected_tag_ids", None)
                return redirect("..")
            self.message_user(request, "Give the merged tag a name.", messages.ERROR)
        context = {
            **self.admin_site.each_context(request),
            "form": MergeTagsForm(),
            "selected_tag_ids": selected,
        }
        return render(request, "admin/taggit/merge_tags_form.html", context)
