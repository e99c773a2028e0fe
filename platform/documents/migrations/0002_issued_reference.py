"""Every issued document gets a public verification reference (the QR code's /xac-thuc/<ref>/);
the ones issued before get one too (their PDFs print no QR, but the desk can give it out)."""

import secrets

from django.db import migrations, models

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # documents.references.REFERENCE_ALPHABET


def fill(apps, schema_editor):
    IssuedDocument = apps.get_model("documents", "IssuedDocument")
    for row in IssuedDocument.objects.filter(reference__isnull=True).only("pk"):
        row.reference = "".join(secrets.choice(ALPHABET) for _ in range(20))
        row.save(update_fields=["reference"])


class Migration(migrations.Migration):
    dependencies = [("documents", "0001_issued_documents")]

    operations = [
        migrations.AddField(
            model_name="issueddocument",
            name="reference",
            field=models.CharField(max_length=20, null=True, verbose_name="reference"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="issueddocument",
            name="reference",
            field=models.CharField(max_length=20, unique=True, verbose_name="reference"),
        ),
    ]
