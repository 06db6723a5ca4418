"""Admin pages beyond the change form: workflow steps, edit conflicts, version comparison."""

import difflib
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import PermissionDenied
from django.forms import modelform_factory
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from reversion.models import Version

from . import workflow
from .formatting import local_datetime
from .models import EDITORIAL_FIELDS, Author, Feature

SCHEDULE_LIMIT_DAYS = 5 * 366
MAX_POSTED_BYLINES = 100


def number(value):
    """A whole number from a URL or form, or None: only ASCII digits, within 64 bits."""
    value = str(value)
    if value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


class TransitionForm(forms.Form):
    """One workflow step: its comment, its time (for publishing), the version it applies to."""

    WHEN_CHOICES = [("now", "Now"), ("later", "At a later time (schedule)")]

    version = forms.IntegerField(widget=forms.HiddenInput)
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 4, "cols": 70}), required=False)
    when = forms.ChoiceField(choices=WHEN_CHOICES, initial="now", widget=forms.RadioSelect)
    publish_at = forms.SplitDateTimeField(
        label="Publish at (UK time)",
        required=False,
        widget=AdminSplitDateTime,
        help_text="Date and time in UK time (GMT or BST). The feature goes live by itself then.",
    )

    def __init__(self, *args, action, feature, **kwargs):
        super().__init__(*args, **kwargs)
        self.action = action
        self.original_date = feature.publish_at if has_original_date(feature) else None
        if self.original_date and "when" in self.fields:
            label = f"On its original date, {local_datetime(self.original_date)}"
            self.fields["when"].choices = [("original", label), *self.WHEN_CHOICES]
            self.fields["when"].initial = "original"
        if action.comment_label:
            self.fields["comment"].label = action.comment_label
            self.fields["comment"].required = action.comment_required
        else:
            self.fields["comment"].label = "Comment (optional, for the record)"
        if action.name not in {"publish", "force_publish"}:
            del self.fields["when"]
            del self.fields["publish_at"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("when") == "later":
            publish_at = cleaned.get("publish_at")
            if publish_at is None:
                self.add_error("publish_at", "Give the date and time to publish at.")
            elif publish_at <= timezone.now():
                self.add_error(
                    "publish_at", "That time has passed: choose a future time, or publish now."
                )
            elif publish_at > timezone.now() + timedelta(days=SCHEDULE_LIMIT_DAYS):
                self.add_error(
                    "publish_at", "Schedule no more than five years ahead; check the year."
                )
        return cleaned


def has_original_date(feature):
    """An imported draft keeps its old site's date, to publish it under."""
    return (
        feature.first_published_at is None
        and feature.publish_at is not None
        and feature.publish_at < timezone.now()
    )


def transition_view(model_admin, request, feature, name):
    """Confirm and apply one workflow step; refusals change nothing and say why."""
    action = workflow.ACTIONS.get(name)
    if action is None:
        raise Http404("No such workflow action.")
    if not model_admin.has_view_permission(request, feature):
        raise PermissionDenied
    change_url = reverse("admin:features_feature_change", args=[feature.pk])
    problem = workflow.refusal(feature, request.user, name)
    if request.method == "POST":
        form = TransitionForm(request.POST, action=action, feature=feature)
        if problem:
            messages.error(request, problem)
            return redirect(change_url)
        if form.is_valid():
            data = form.cleaned_data
            kwargs = {"expected_version": data["version"]}
            if "when" in data:
                kwargs["at"] = {
                    "later": data["publish_at"],
                    "original": form.original_date,
                }.get(data["when"])
            try:
                _run(name, feature, request.user, data.get("comment", ""), kwargs)
            except workflow.WorkflowError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _done_message(feature, action))
                return redirect(change_url)
    else:
        if problem:
            messages.error(request, problem)
            return redirect(change_url)
        form = TransitionForm(initial={"version": feature.version}, action=action, feature=feature)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": Feature._meta,
        "title": f"{action.label}: {feature.title}",
        "feature": feature,
        "action": action,
        "form": form,
        "media": model_admin.media + form.media,
        "change_url": change_url,
    }
    return TemplateResponse(
        request,
        "admin/features/feature/transition.html",
        context,
        status=400 if request.method == "POST" else 200,
    )


def _run(name, feature, user, comment, kwargs):
    # Withdrawal's comment is its public notice; force publishing's is its reason.
    keyword = {"withdraw": "notice", "force_publish": "reason"}.get(name, "comment")
    return getattr(workflow, name)(feature, by=user, **{keyword: comment}, **kwargs)


def _done_message(feature, action):
    if action.name in {"publish", "force_publish"} and feature.is_scheduled:
        return f"“{feature.title}” is scheduled to go live at {local_datetime(feature.publish_at)}."
    return f"{action.label}: done for “{feature.title}”. It is now {feature.get_status_display()}."


def _display(field, value):
    """A form value as an editor reads it (posted ids that are not numbers are shown raw)."""
    if value in (None, "", []):
        return ""
    if isinstance(field, forms.ModelMultipleChoiceField):
        values = value if isinstance(value, list | tuple) else [value]
        pks = [v.pk if hasattr(v, "pk") else number(v) for v in values]
        objects = field.queryset.filter(pk__in=[pk for pk in pks if pk is not None])
        return ", ".join(sorted(str(obj) for obj in objects))
    if isinstance(field, forms.ModelChoiceField):
        pk = value.pk if hasattr(value, "pk") else number(value)
        obj = field.queryset.filter(pk=pk).first() if pk is not None else None
        return str(obj) if obj else str(value)
    if isinstance(value, list | tuple):
        return " ".join(str(part) for part in value if part)
    return str(value)


def _byline_text(rows):
    """'Ann Lee (Writer, The Trust); Bo Ma' from (name, job title, organisation) rows."""
    parts = []
    for name, job_title, organisation in rows:
        role = ", ".join(part for part in (job_title, organisation) if part)
        parts.append(f"{name} ({role})" if role else name)
    return "; ".join(parts)


def _posted_byline(data):
    """The byline as posted in the inline formset, in order, with the roles typed."""
    rows = []
    for index in range(min(number(data.get("bylines-TOTAL_FORMS", "0")) or 0, MAX_POSTED_BYLINES)):
        prefix = f"bylines-{index}-"
        author_id = number(data.get(prefix + "author", ""))
        if author_id is None or data.get(prefix + "DELETE"):
            continue
        position = number(data.get(prefix + "position", "0")) or 0
        rows.append(
            (position, author_id, data.get(prefix + "job_title", ""),
             data.get(prefix + "organisation", ""))
        )  # fmt: skip
    names = dict(Author.objects.filter(pk__in=[row[1] for row in rows]).values_list("pk", "name"))
    return _byline_text(
        (names.get(author_id, "?"), job_title, organisation)
        for _position, author_id, job_title, organisation in sorted(rows)
    )


def conflict_response(model_admin, request, current):
    """Someone saved after this editor opened the form: show both versions, save nothing."""
    # Every field the form has, whatever this user may now change: it is their text.
    form_class = modelform_factory(
        Feature, form=model_admin.form, fields=model_admin.form.Meta.fields
    )
    theirs_form = form_class(instance=current)
    yours_form = form_class(request.POST, request.FILES, instance=current)
    rows = []
    for name, field in theirs_form.fields.items():
        if name in {"base_version", "minor_change"} or isinstance(field.widget, forms.HiddenInput):
            continue
        theirs = _display(field, theirs_form[name].value())
        yours = _display(field, yours_form[name].value())
        if name == "new_tags" and not yours:
            continue
        rows.append(
            {
                "label": field.label or name.replace("_", " ").capitalize(),
                "name": name,
                "theirs": theirs,
                "yours": yours,
                "differs": theirs.strip() != yours.strip(),
                "long": isinstance(field.widget, forms.Textarea) or len(yours) > 80,
            }
        )
    byline_now = _byline_text(
        (b.author.name, b.job_title, b.organisation)
        for b in current.bylines.select_related("author")
    )
    byline_yours = _posted_byline(request.POST)
    rows.append(
        {
            "label": "Byline (authors in order, with the roles typed for this feature)",
            "name": "authors",
            "theirs": byline_now,
            "yours": byline_yours,
            "differs": byline_now != byline_yours,
            "long": False,
        }
    )
    last = current.last_edited_by
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": Feature._meta,
        "title": f"Not saved: “{current.title}” was changed by someone else",
        "feature": current,
        "rows": rows,
        "changed_by": last.get_full_name() or last.get_username() if last else "another user",
        "changed_at": current.updated_at,
        "change_url": reverse("admin:features_feature_change", args=[current.pk]),
    }
    return TemplateResponse(request, "admin/features/feature/conflict.html", context, status=409)


def _diff_html(old, new):
    """Word-level difference of two texts, as <del> and <ins>."""
    old_words, new_words = old.split(" "), new.split(" ")
    parts = []
    matcher = difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False)
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        if tag == "equal":
            parts.append(escape(" ".join(old_words[a1:a2])))
            continue
        if tag in {"delete", "replace"}:
            parts.append(f"<del>{escape(' '.join(old_words[a1:a2]))}</del>")
        if tag in {"insert", "replace"}:
            parts.append(f"<ins>{escape(' '.join(new_words[b1:b2]))}</ins>")
    return mark_safe(" ".join(parts))  # noqa: S308 - every piece above is escaped


def compare_view(model_admin, request, feature):
    """Two saved versions of a feature side by side, field by field."""
    versions = Version.objects.get_for_object(feature).select_related("revision__user")
    ids = [number(request.GET.get("a", "")), number(request.GET.get("b", ""))]
    if None in ids:
        raise Http404("Choose two versions to compare.")
    chosen = {v.pk: v for v in versions.filter(pk__in=ids)}
    if len(chosen) != 2:
        raise Http404("Those versions do not belong to this feature.")
    older, newer = sorted(chosen.values(), key=lambda v: v.revision.date_created)
    rows = [
        {
            "label": "Byline",
            "changed": _version_byline(older) != _version_byline(newer),
            "diff": _diff_html(_version_byline(older), _version_byline(newer)),
        }
    ]
    for name in EDITORIAL_FIELDS:
        field = Feature._meta.get_field(name)
        name = field.attname
        before = _version_text(field, older.field_dict.get(name))
        after = _version_text(field, newer.field_dict.get(name))
        rows.append(
            {
                "label": str(field.verbose_name).capitalize(),
                "changed": before != after,
                "diff": _diff_html(before, after) if before != after else before,
            }
        )
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": Feature._meta,
        "title": f"Compare versions of “{feature.title}”",
        "feature": feature,
        "older": older,
        "newer": newer,
        "rows": rows,
        "history_url": reverse("admin:features_feature_history", args=[feature.pk]),
    }
    return TemplateResponse(request, "admin/features/feature/compare.html", context)


def _version_byline(version):
    """The byline stored with a version of a feature."""
    rows = sorted(
        (
            (byline.field_dict.get("position") or 0, byline.field_dict)
            for byline in version.revision.version_set.all()
            if byline.content_type.model == "byline"
        ),
        key=lambda row: row[0],
    )
    names = dict(
        Author.objects.filter(pk__in=[f["author_id"] for _p, f in rows]).values_list("pk", "name")
    )
    return _byline_text(
        (names.get(f["author_id"], "?"), f.get("job_title", ""), f.get("organisation", ""))
        for _p, f in rows
    )


def _version_text(field, value):
    """A stored field value as text; related rows by their names."""
    if value in (None, "", []):
        return ""
    if field.is_relation:
        pks = value if isinstance(value, list | tuple) else [value]
        pks = [getattr(pk, "pk", pk) for pk in pks]
        related = field.related_model._default_manager.filter(pk__in=pks)
        return ", ".join(sorted(str(obj) for obj in related))
    return str(value)
