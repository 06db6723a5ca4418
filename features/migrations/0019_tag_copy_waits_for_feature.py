from importlib import import_module

from django.db import migrations

# A new tagging reads its feature's values with a share lock: a change to the feature being
# committed at the same moment is waited for and read, rather than copied to every tagging
# but this one, which that change's transaction could not yet see.
PREVIOUS = import_module("features.migrations.0017_tag_copies").POSTGRESQL[0]
LOCKING = PREVIOUS.replace(
    "WHERE id = NEW.content_object_id;", "WHERE id = NEW.content_object_id FOR SHARE;", 1
)
assert LOCKING != PREVIOUS


def locking(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(LOCKING)


def not_locking(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PREVIOUS)


class Migration(migrations.Migration):

    dependencies = [
        ("features", "0018_search_vector_given_on_insert"),
    ]

    operations = [migrations.RunPython(locking, not_locking)]
