# Written by hand (state only)

from django.db import migrations


class Migration(migrations.Migration):
    """Form 04 (``Apology``) moves to the dossiers app (dossiers 0005): forgotten here
    without touching its table, which the dossiers app keeps under the same name."""

    dependencies = [
        ("notifications", "0002_account_mails"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name="Apology")],
        ),
    ]
