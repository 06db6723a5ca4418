"""
The editorial workflow: who may move a feature from which state to which, in one place.

Each transition is one call that takes the actor (``workflow.publish(feature, by=user)``).
It checks the rules, changes the feature, bumps its version and records a Transition,
all in one database transaction; anything not allowed raises WorkflowError and changes
nothing. The admin asks ``allowed_actions`` what to show, and still goes through these
functions when a form is posted, so a hidden button cannot be pressed by hand.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import Feature, Status, Step, Transition

PUBLISH_PERMISSION = "features.publish_feature"


class WorkflowError(Exception):
    """A transition that is not allowed: the message says why, for the editor to read."""


class StaleVersion(WorkflowError):
    """The feature was saved by someone else since the actor last saw it."""


@dataclass(frozen=True)
class Action:
    step: Step
    sources: tuple
    target: str
    editor_only: bool
    comment_label: str = ""
    comment_required: bool = False

    @property
    def name(self):
        return self.step.value

    @property
    def label(self):
        return self.step.label


# The design's table: from which states, to which, and whether only editors may.
ACTIONS = {
    action.name: action
    for action in [
        Action(Step.SUBMIT, (Status.DRAFT,), Status.IN_REVIEW, False),
        Action(
            Step.SEND_BACK, (Status.IN_REVIEW,), Status.DRAFT, True,
            comment_label="What needs to change (the writer sees this)", comment_required=True,
        ),
        Action(Step.PUBLISH, (Status.DRAFT, Status.IN_REVIEW), Status.PUBLISHED, True),
        Action(
            Step.FORCE_PUBLISH, (Status.DRAFT, Status.IN_REVIEW), Status.PUBLISHED, True,
            comment_label="Why this cannot wait for another editor", comment_required=True,
        ),
        Action(Step.APPROVE, (Status.PUBLISHED,), Status.PUBLISHED, True),
        Action(
            Step.UNPUBLISH, (Status.PUBLISHED,), Status.DRAFT, True,
            comment_label="Reason (for the record)",
        ),
        Action(
            Step.WITHDRAW, (Status.PUBLISHED,), Status.WITHDRAWN, True,
            comment_label="Public explanation (shown on the page)", comment_required=True,
        ),
        Action(Step.RESTORE, (Status.WITHDRAWN,), Status.DRAFT, True),
    ]
}  # fmt: skip


def is_editor(user):
    return bool(user and user.is_active and user.has_perm(PUBLISH_PERMISSION))


def is_writer(user):
    return bool(user and user.is_active and user.has_perm("features.add_feature"))


def own_features(user):
    """Features a writer created or is credited on."""
    return Feature.objects.filter(Q(created_by=user) | Q(bylines__author__user=user)).distinct()


def is_own(feature, user):
    """A writer's own feature: one they created or are credited on."""
    if feature.created_by_id == user.pk:
        return True
    return feature.pk is not None and feature.bylines.filter(author__user=user).exists()


def may_edit(user, feature):
    """Editors edit anything; writers edit their own features while they are drafts."""
    if is_editor(user):
        return True
    return is_writer(user) and feature.status == Status.DRAFT and is_own(feature, user)


def may_delete(feature):
    """Only work that has never been published may be deleted; the rest is unpublished."""
    return feature.status in {Status.DRAFT, Status.IN_REVIEW} and not (
        feature.pk and feature.transitions.filter(to_status=Status.PUBLISHED).exists()
    )


def may_preview(user, feature):
    """Staff who may edit a feature, or who wrote it, may see it before it is live."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    return is_editor(user) or (is_writer(user) and is_own(feature, user))


def refusal(feature, user, name):
    """Why ``user`` may not take action ``name`` on ``feature`` now, or None if they may."""
    action = ACTIONS.get(name)
    if action is None:
        return f"“{name}” is not a workflow action."
    if feature.status not in action.sources:
        return (
            f"“{action.label}” is not possible while the feature is "
            f"{feature.get_status_display().lower()}."
        )
    if action.editor_only and not is_editor(user):
        return f"Only editors can {action.label.lower()}."
    if name == "submit" and not (is_editor(user) or (is_writer(user) and is_own(feature, user))):
        return "Writers can submit only their own features."
    if name == "withdraw" and not feature.is_live:
        return "This feature has not gone live, so there is nothing to withdraw: unpublish it."
    if name == "publish" and feature.submitted_by_id is None and feature.created_by_id == user.pk:
        return (
            "You wrote this feature: submit it for review so that another editor publishes "
            "it, or submit it and force publish with a reason."
        )
    if name == "approve" and not feature.needs_approval:
        return "This feature does not need approval."
    if name in {"publish", "approve"} and feature.submitted_by_id == user.pk:
        if name == "publish":
            return (
                "You submitted this feature, so another editor must publish it. "
                "Use “Force publish” with a reason if it cannot wait."
            )
        return "Another editor must approve a feature you force-published."
    if name == "force_publish" and feature.submitted_by_id != user.pk:
        return "Force publish is for the editor who submitted the feature; use “Publish”."
    if name in {"publish", "force_publish"} and not feature.bylines.exists():
        return "Add at least one author before publishing."
    return None


def allowed_actions(feature, user):
    """The actions ``user`` may take on ``feature`` now, in table order."""
    return [action for name, action in ACTIONS.items() if refusal(feature, user, name) is None]


def _apply(feature, by, name, comment="", expected_version=None, change=None, publish_at=None):
    action = ACTIONS[name]
    comment = (comment or "").strip()
    with transaction.atomic():
        current = Feature.objects.select_for_update().get(pk=feature.pk)
        if expected_version is not None and current.version != expected_version:
            raise StaleVersion(
                "Someone else saved this feature after you opened it. "
                "Reload it to see their changes, then try again."
            )
        problem = refusal(current, by, name)
        if problem is None and action.comment_required and not comment:
            problem = f"“{action.label}” needs a comment: {action.comment_label.lower()}."
        if problem:
            raise WorkflowError(problem)
        from_status = current.status
        was_live = current.is_live
        current.status = action.target
        if change:
            change(current)
        if was_live and not current.is_live:
            # Feeds read this to tell pollers that something left them.
            current.left_public_at = timezone.now()
        current.version += 1
        current.last_edited_by = by
        current.save()
        Transition.objects.create(
            feature=current,
            actor=by,
            action=name,
            from_status=from_status,
            to_status=current.status,
            comment=comment,
            publish_at=publish_at,
        )
    # The caller's object now shows what was saved.
    for field in current._meta.concrete_fields:
        setattr(feature, field.attname, getattr(current, field.attname))
    return feature


def submit(feature, by, comment="", expected_version=None):
    def change(current):
        current.submitted_by = by

    return _apply(feature, by, "submit", comment, expected_version, change)


def send_back(feature, by, comment, expected_version=None):
    return _apply(feature, by, "send_back", comment, expected_version)


def _publishing(by, at, forced):
    def change(current):
        when = at or timezone.now()
        current.publish_at = when
        if current.first_published_at is None:
            current.first_published_at = when
            freeze_bylines(current)
        current.needs_approval = forced
        current.withdrawn_at = None
        current.withdrawal_notice = ""

    return change


def publish(feature, by, at=None, comment="", expected_version=None):
    """Publish now, or at ``at`` (a future time schedules it)."""
    return _apply(feature, by, "publish", comment, expected_version, _publishing(by, at, False), at)


def force_publish(feature, by, reason, at=None, expected_version=None):
    return _apply(
        feature, by, "force_publish", reason, expected_version, _publishing(by, at, True), at
    )


def approve(feature, by, comment="", expected_version=None):
    def change(current):
        current.needs_approval = False

    return _apply(feature, by, "approve", comment, expected_version, change)


def unpublish(feature, by, comment="", expected_version=None):
    """Back to draft, as if never published: the page is a 404 again."""

    def change(current):
        current.first_published_at = None
        current.publish_at = None
        current.needs_approval = False

    return _apply(feature, by, "unpublish", comment, expected_version, change)


def withdraw(feature, by, notice, expected_version=None):
    def change(current):
        current.withdrawn_at = timezone.now()
        current.withdrawal_notice = notice.strip()
        current.needs_approval = False

    return _apply(feature, by, "withdraw", notice, expected_version, change)


def restore(feature, by, comment="", expected_version=None):
    def change(current):
        current.withdrawn_at = None
        current.withdrawal_notice = ""

    return _apply(feature, by, "restore", comment, expected_version, change)


def freeze_bylines(feature):
    """Keep each author's role as it is at first publication."""
    for byline in feature.bylines.select_related("author"):
        if not byline.role_frozen:
            byline.freeze_role()
            byline.save(update_fields=["job_title", "organisation", "role_frozen"])
