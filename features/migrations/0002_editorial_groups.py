"""The two editorial roles: Writers draft and submit; Editors do everything."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

WRITER_PERMISSIONS = [
    ("features", "add_feature"), ("features", "change_feature"), ("features", "view_feature"),
    ("features", "view_section"), ("features", "view_author"), ("features", "add_author"),
    ("features", "view_download"), ("features", "view_transition"),
    ("features", "add_byline"), ("features", "change_byline"), ("features", "delete_byline"),
    ("features", "view_byline"),
    ("taggit", "add_tag"), ("taggit", "view_tag"),
]  # fmt: skip
EDITOR_MODELS = {
    "features": ["feature", "section", "author", "byline", "download", "transition"],
    "taggit": ["tag", "taggeditem"],
}


def create_groups(apps, schema_editor):
    # Permissions are normally made after all migrations; make them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def permission(app_label, codename):
        return Permission.objects.get(content_type__app_label=app_label, codename=codename)

    writers, _ = Group.objects.get_or_create(name="Writers")
    writers.permissions.set([permission(app, code) for app, code in WRITER_PERMISSIONS])

    editors, _ = Group.objects.get_or_create(name="Editors")
    editor_permissions = [permission("features", "publish_feature")]
    for app_label, models in EDITOR_MODELS.items():
        for model in models:
            for verb in ["add", "change", "delete", "view"]:
                editor_permissions.append(permission(app_label, f"{verb}_{model}"))
    editors.permissions.set(editor_permissions)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Writers", "Editors"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("features", "0001_initial"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
