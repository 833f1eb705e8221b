"""The credit ledger (``ChargedGeneration``), backfilled from the completed try-ons and
batch items still kept; and the indexes the webhook deliveries' admin list reads."""

import django.utils.timezone
from django.db import migrations, models

BATCH = 2000


def backfill(apps, schema_editor):
    """One row per completed generation still on record (those deleted before cannot be
    told apart any more). Idempotent: a generation already in the ledger is skipped."""
    ChargedGeneration = apps.get_model("genlook", "ChargedGeneration")
    TryOn = apps.get_model("genlook", "TryOn")
    BatchItem = apps.get_model("genlook", "BatchItem")
    known = set(ChargedGeneration.objects.values_list("generation_id", flat=True))
    rows = []

    def add(row):
        rows.append(row)
        if len(rows) >= BATCH:
            ChargedGeneration.objects.bulk_create(rows, ignore_conflicts=True)
            rows.clear()

    completed = TryOn.objects.filter(state="completed").exclude(generation_id="")
    for pk, generation_id, retry_of, finished, created in completed.values_list(
        "pk", "generation_id", "retry_of_id", "finished_at", "created_at"
    ).iterator(chunk_size=BATCH):
        if generation_id in known:
            continue
        known.add(generation_id)
        add(
            ChargedGeneration(
                generation_id=generation_id,
                kind="retried" if retry_of else "shopper",
                try_on_id=pk,
                charged_at=finished or created,
            )
        )
    items = BatchItem.objects.filter(state="completed").exclude(generation_id="")
    for pk, generation_id, finished in items.values_list(
        "pk", "generation_id", "finished_at"
    ).iterator(chunk_size=BATCH):
        if generation_id in known:
            continue
        known.add(generation_id)
        add(
            ChargedGeneration(
                generation_id=generation_id,
                kind="batch",
                batch_item_id=pk,
                charged_at=finished or django.utils.timezone.now(),
            )
        )
    if rows:
        ChargedGeneration.objects.bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("genlook", "0018_share_links"),
    ]

    operations = [
        migrations.CreateModel(
            name="ChargedGeneration",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "generation_id",
                    models.CharField(
                        max_length=255, unique=True, verbose_name="Genlook generation id"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("shopper", "Shopper try-on"),
                            ("retried", "Retried from the admin"),
                            ("batch", "Batch (catalog)"),
                        ],
                        max_length=16,
                        verbose_name="kind",
                    ),
                ),
                (
                    "try_on_id",
                    models.BigIntegerField(
                        blank=True, db_index=True, null=True, verbose_name="try-on id"
                    ),
                ),
                (
                    "batch_item_id",
                    models.BigIntegerField(blank=True, null=True, verbose_name="batch item id"),
                ),
                (
                    "charged_at",
                    models.DateTimeField(
                        db_index=True, default=django.utils.timezone.now, verbose_name="charged"
                    ),
                ),
                (
                    "erased_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="erased"),
                ),
            ],
            options={
                "verbose_name": "charged generation",
                "verbose_name_plural": "charged generations",
                "ordering": ["-charged_at"],
            },
        ),
        migrations.AddIndex(
            model_name="webhookdelivery",
            index=models.Index(fields=["received_at", "id"], name="genlook_wd_recent"),
        ),
        migrations.AddIndex(
            model_name="webhookdelivery",
            index=models.Index(fields=["reason"], name="genlook_wd_reason"),
        ),
        migrations.AddIndex(
            model_name="webhookdelivery",
            index=models.Index(
                fields=["generation_id"],
                name="genlook_wd_gen_prefix",
                opclasses=["varchar_pattern_ops"],
            ),
        ),
        migrations.AddIndex(
            model_name="tryon",
            index=models.Index(
                fields=["generation_id"],
                name="genlook_tryon_gen_prefix",
                opclasses=["varchar_pattern_ops"],
            ),
        ),
        migrations.AddIndex(
            model_name="tryon",
            index=models.Index(
                fields=["product_external_id"],
                name="genlook_tryon_ext_prefix",
                opclasses=["varchar_pattern_ops"],
            ),
        ),
        migrations.AddIndex(
            model_name="tryon",
            index=models.Index(
                fields=["error_code"],
                name="genlook_tryon_err_prefix",
                opclasses=["varchar_pattern_ops"],
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
