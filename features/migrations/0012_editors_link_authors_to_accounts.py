"""Editors link authors to staff accounts, which needs seeing the accounts."""

from django.db import migrations


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    editors, _ = Group.objects.get_or_create(name="Editors")
    editors.permissions.add(
        Permission.objects.get(content_type__app_label="auth", codename="view_user")
    )


class Migration(migrations.Migration):
    dependencies = [("features", "0011_preview_expiry_label")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
