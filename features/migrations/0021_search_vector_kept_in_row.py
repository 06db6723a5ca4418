from django.db import migrations

# PostgreSQL keeps a feature's search vector in the row itself (compressed) where it can,
# and moves the body and its text out to TOAST storage first. Search reads the newest
# matches' vectors twice each, to match and to rank; out of the row, each read was a
# lookup in the TOAST table. The body is read only for a feature's page or a feed.
# The layout applies to each row as it is next written: the newest features, which search
# reads first, are the most recently saved.


def vector_in_row(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE features_feature ALTER COLUMN search_vector SET STORAGE MAIN"
        )


def vector_out_of_row(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE features_feature ALTER COLUMN search_vector SET STORAGE EXTENDED"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("features", "0020_store_image_sizes"),
    ]

    operations = [migrations.RunPython(vector_in_row, vector_out_of_row)]
