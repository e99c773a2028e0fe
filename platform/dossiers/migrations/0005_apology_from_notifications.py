# Written by hand (state only)

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """Form 04 moves from the notifications app to the dossiers app: only Django's state
    changes; the table (``notifications_apology``), its rows and its index stay as they are."""

    dependencies = [
        ("dossiers", "0004_fee_payments"),
        ("notifications", "0003_apology_to_dossiers"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="Apology",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("reason", models.TextField(verbose_name="reason")),
                        ("old_due_date", models.DateField(verbose_name="original due date")),
                        ("new_due_date", models.DateField(verbose_name="new appointment date")),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("draft", "Draft, waiting for a leader's signature"),
                                    ("signed", "Signed"),
                                    ("sent", "Sent to the applicant"),
                                ],
                                default="draft",
                                max_length=10,
                                verbose_name="status",
                            ),
                        ),
                        ("prepared_at", models.DateTimeField(verbose_name="prepared")),
                        (
                            "signed_at",
                            models.DateTimeField(blank=True, null=True, verbose_name="signed"),
                        ),
                        (
                            "sent_at",
                            models.DateTimeField(blank=True, null=True, verbose_name="sent"),
                        ),
                        (
                            "dossier",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="apology",
                                to="dossiers.dossier",
                            ),
                        ),
                        (
                            "signed_by",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="signed by",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "notifications_apology",
                        "verbose_name": "apology (Form 04)",
                        "verbose_name_plural": "apologies (Form 04)",
                        "indexes": [
                            models.Index(
                                condition=models.Q(("status", "draft")),
                                fields=["prepared_at"],
                                name="apology_draft",
                            )
                        ],
                    },
                ),
            ],
        ),
    ]
