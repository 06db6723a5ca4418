from django.core.files.storage import default_storage
from django.db import migrations
from PIL import Image

# Images cleaned on upload were stored without their width and height, so every load of
# their row read the file to find them (and feeds could not state them). Stored now.
IMAGES = [("Feature", "hero_image"), ("Author", "photo")]


def store_sizes(apps, schema_editor):
    for model_name, field in IMAGES:
        model = apps.get_model("features", model_name)
        unsized = model.objects.exclude(**{field: ""}).filter(**{f"{field}_width__isnull": True})
        for pk, name in list(unsized.values_list("pk", field)):
            try:
                with default_storage.open(name) as handle, Image.open(handle) as image:
                    width, height = image.size
            except Exception as error:  # noqa: BLE001 - whatever the storage raises
                # A missing or unreadable file: its row is left as it was, and named.
                print(f"\n  {model_name} {pk}: could not read {name}: {error}", end="")
                continue
            model.objects.filter(pk=pk).update(
                **{f"{field}_width": width, f"{field}_height": height}
            )


class Migration(migrations.Migration):
    dependencies = [
        ("features", "0019_tag_copy_waits_for_feature"),
    ]

    operations = [migrations.RunPython(store_sizes, migrations.RunPython.noop, elidable=True)]
