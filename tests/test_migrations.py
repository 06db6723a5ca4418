import shutil
import tempfile
import threading
import time

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import TransactionTestCase, override_settings
from django.utils import timezone

from features.models import Feature, Status, TaggedFeature
from tests.factories import jpeg_bytes, make_feature

BEFORE = [("features", "0016_feature_publish_at_idx")]
AFTER = [("features", "0017_tag_copies")]


class TagCopiesMigrationTests(TransactionTestCase):
    """Migration 0017 moves features' tags out of taggit's table, with copies, and back."""

    def migrate(self, target):
        executor = MigrationExecutor(connection)
        executor.migrate(target)
        return executor.loader.project_state(target).apps

    def test_tags_move_across_with_their_copies_and_back(self):
        apps = self.migrate(BEFORE)
        try:
            when = timezone.now().replace(microsecond=0)
            section = apps.get_model("features", "Section").objects.create(name="N", slug="n")
            feature_model = apps.get_model("features", "Feature")
            live = feature_model.objects.create(
                title="Live", slug="live", standfirst="S", section=section,
                status="published", publish_at=when,
            )  # fmt: skip
            draft = feature_model.objects.create(
                title="Draft", slug="draft", standfirst="S", section=section
            )
            tag_model = apps.get_model("taggit", "Tag")
            estates = tag_model.objects.create(name="Estates", slug="estates")
            policy = tag_model.objects.create(name="Policy", slug="policy")
            kinds = apps.get_model("contenttypes", "ContentType").objects
            kind = kinds.get_or_create(app_label="features", model="feature")[0]
            other = kinds.get_or_create(app_label="features", model="section")[0]
            items = apps.get_model("taggit", "TaggedItem").objects
            for feature, tag in [(live, estates), (live, policy), (draft, estates)]:
                items.create(content_type=kind, object_id=feature.pk, tag=tag)
            items.create(content_type=other, object_id=section.pk, tag=policy)

            apps = self.migrate(AFTER)
            copies = apps.get_model("features", "TaggedFeature").objects
            assert set(
                copies.values_list("content_object__slug", "tag__slug", "status", "publish_at")
            ) == {
                ("live", "estates", "published", when),
                ("live", "policy", "published", when),
                ("draft", "estates", "draft", None),
            }
            # What is not a feature's stays where it was.
            left = apps.get_model("taggit", "TaggedItem").objects
            assert list(left.values_list("content_type_id", "object_id")) == [
                (other.pk, section.pk)
            ]

            apps = self.migrate(BEFORE)
            items = apps.get_model("taggit", "TaggedItem").objects
            back = items.filter(content_type_id=kind.pk).values_list("object_id", "tag__slug")
            assert set(back) == {(live.pk, "estates"), (live.pk, "policy"), (draft.pk, "estates")}
        finally:
            executor = MigrationExecutor(connection)
            executor.migrate(executor.loader.graph.leaf_nodes())


class ImageSizesMigrationTests(TransactionTestCase):
    """Migration 0020 stores the width and height of images uploaded without them."""

    def test_sizes_are_read_from_the_files_once_and_stored(self):
        executor = MigrationExecutor(connection)
        executor.migrate([("features", "0019_tag_copy_waits_for_feature")])
        apps = executor.loader.project_state([("features", "0019_tag_copy_waits_for_feature")]).apps
        media = tempfile.mkdtemp()
        try:
            with override_settings(MEDIA_ROOT=media):
                default_storage.save("features/2026/11/pier.jpg", ContentFile(jpeg_bytes((64, 48))))
                section = apps.get_model("features", "Section").objects.create(name="N", slug="n")
                features = apps.get_model("features", "Feature").objects
                unsized, lost, plain = (
                    features.create(slug=slug, title="T", standfirst="S", section=section)
                    for slug in "abc"
                )
                # As uploads left them: a name and no size (set by update(): a model instance
                # with an image and no size reads the file as soon as it is made).
                for feature, name in [(unsized, "pier.jpg"), (lost, "gone.jpg")]:
                    features.filter(pk=feature.pk).update(
                        hero_image=f"features/2026/11/{name}", hero_image_alt="Pier"
                    )

                executor = MigrationExecutor(connection)
                executor.migrate(executor.loader.graph.leaf_nodes())
            rows = Feature.objects.values_list("pk", "hero_image_width", "hero_image_height")
            assert {pk: size for pk, *size in rows} == {
                unsized.pk: [64, 48],
                lost.pk: [None, None],  # its file is missing: left as it was
                plain.pk: [None, None],
            }
        finally:
            shutil.rmtree(media, ignore_errors=True)
            executor = MigrationExecutor(connection)
            executor.migrate(executor.loader.graph.leaf_nodes())


class TriggersInPlaceTests(TransactionTestCase):
    """The tags' copies depend on triggers that a later migration could drop unawares."""

    def test_the_copy_triggers_exist(self):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid IN"
                    " ('features_feature'::regclass, 'features_taggedfeature'::regclass)"
                )
            else:
                cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            names = {name for (name,) in cursor.fetchall()}
        assert {"features_taggedfeature_copy", "features_feature_copy_to_taggings"} <= names


@pytest.mark.postgres
class TaggingCopyConcurrencyTests(TransactionTestCase):
    """A tagging made while its feature's change is being committed copies the change."""

    def test_a_new_tagging_waits_for_a_change_of_its_feature_being_committed(self):
        feature = make_feature("Under way", status=Status.DRAFT)
        changed, errors = threading.Event(), []

        def publish_slowly():
            try:
                with transaction.atomic():
                    Feature.objects.filter(pk=feature.pk).update(
                        status=Status.PUBLISHED, publish_at=timezone.now()
                    )
                    changed.set()
                    time.sleep(0.5)  # the tagging below is made meanwhile
            except Exception as error:  # reported by the test's own thread
                errors.append(error)
                changed.set()
            finally:
                connections.close_all()

        other = threading.Thread(target=publish_slowly)
        other.start()
        assert changed.wait(10)
        feature.tags.add("Estates")
        other.join()
        assert not errors
        assert TaggedFeature.objects.get(content_object=feature).status == Status.PUBLISHED
