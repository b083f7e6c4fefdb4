"""Each seal's last use on the seal list, read from the index (issue 9)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("certificates", "0008_list_indexes")]

    operations = [
        migrations.AddIndex(
            model_name="sealuse",
            index=models.Index(fields=["seal", "-used_at"], name="sealuse_seal_used_idx"),
        ),
    ]
