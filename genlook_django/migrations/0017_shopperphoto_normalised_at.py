from django.db import migrations, models
from django.db.models import F


def photos_so_far_were_normalised(apps, schema_editor):
    ShopperPhoto = apps.get_model("genlook", "ShopperPhoto")
    ShopperPhoto.objects.filter(normalised_at__isnull=True).update(normalised_at=F("created_at"))


class Migration(migrations.Migration):
    """ShopperPhoto.normalised_at: empty while the worker has yet to normalise the upload
    (PHOTO_NORMALISE). Every photo stored before was normalised in its request."""

    dependencies = [
        ("genlook", "0013_erasure_and_alias_state"),
    ]

    operations = [
        migrations.AddField(
            model_name="shopperphoto",
            name="normalised_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="normalised"
            ),
        ),
        migrations.RunPython(photos_so_far_were_normalised, migrations.RunPython.noop),
    ]
