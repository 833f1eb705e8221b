from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("genlook", "0010_admin_list_indexes"),
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
