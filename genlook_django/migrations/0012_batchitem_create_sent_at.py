from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("genlook", "0011_syncedproduct_last_error_status"),
    ]

    operations = [
        migrations.AddField(
            model_name="batchitem",
            name="create_sent_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="create sent"
            ),
        ),
    ]
