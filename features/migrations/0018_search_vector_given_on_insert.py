from importlib import import_module

from django.db import migrations

# The search vector is still the database's to write, with one exception: a row inserted
# with a vector already in it keeps it. The ORM never gives one (the field is not editable,
# and a new feature's is empty); seed_bulk does, computing each of its few hundred shared
# bodies once instead of once a row. Any update recomputes it, as before.
FUNCTION = """
CREATE OR REPLACE FUNCTION features_feature_search_vector() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.search_vector IS NOT NULL THEN
        RETURN NEW;
    END IF;
    NEW.search_vector :=
        setweight(to_tsvector('english', coalesce(NEW.title, '')), 'A') ||
        setweight(to_tsvector('english', coalesce(NEW.standfirst, '')), 'B') ||
        setweight(to_tsvector('english', coalesce(NEW.body_text, '')), 'C');
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
"""
# Going back, the function as migration 0010 made it.
PREVIOUS = import_module("features.migrations.0010_search_vector").FUNCTION


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
