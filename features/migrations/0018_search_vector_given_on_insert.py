from importlib import import_module

from django.db import migrations

# The search vector is still the database's to write, with one exception: a row inserted
# with a vector already in it keeps it. The ORM never gives one (the field is not editable,
# and a new feature's is empty); seed_bulk does, computing each of its few hundred shared
# bodies once instead of once a row. Any update recomputes it, as before.
# Going back, the function as migration 0010 made it; going forward, the same with the
# exception first.
PREVIOUS = import_module("features.migrations.0010_search_vector").FUNCTION
FUNCTION = PREVIOUS.replace(
    "BEGIN\n",
    "BEGIN\n"
    "    IF TG_OP = 'INSERT' AND NEW.search_vector IS NOT NULL THEN\n"
    "        RETURN NEW;\n"
    "    END IF;\n",
    1,
)
assert FUNCTION != PREVIOUS


def given_vectors(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)


def computed_vectors(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PREVIOUS)


class Migration(migrations.Migration):

    dependencies = [
        ("features", "0017_tag_copies"),
    ]

    operations = [migrations.RunPython(given_vectors, computed_vectors)]
