"""Least privilege in the database: the public trails and ledgers refuse UPDATE and DELETE from
every role, the application role gets row access only (no TRUNCATE, owns nothing), and the
owner's SECURITY DEFINER function drops agency schemas for it (``tenants.privileges``).

Trails already guarded elsewhere: the usage ledger and the billing audit (billing 0003), issued
invoices and their lines (billing 0003), the exchange trail (exchange 0002).
"""

from django.db import migrations

TRAILS = [
    "tenants_agencyevent",
    "onboarding_applicationevent",
    "billing_payment",
    "billing_creditnote",
]

FORWARD = "\n".join(
    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON public.{table} "
    "FOR EACH ROW EXECUTE FUNCTION public.motcua_append_only();"
    for table in TRAILS
)
BACKWARD = (
    "\n".join(f"DROP TRIGGER IF EXISTS {table}_append_only ON public.{table};" for table in TRAILS)
    + "\nDROP FUNCTION IF EXISTS public.motcua_agency_schema_drop(text, timestamptz);"
)


def install(apps, schema_editor):  # type: ignore[no-untyped-def]
    from tenants import privileges

    privileges.drop_function_install()
    with schema_editor.connection.cursor() as cursor:
        # Every schema that exists now (the template, the agencies); later ones are covered by
        # the default privileges grants_apply sets.
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE nspowner = "
            "(SELECT oid FROM pg_roles WHERE rolname = current_user) "
            "AND nspname NOT LIKE 'pg\\_%' AND nspname NOT IN ('public', 'information_schema') "
            "ORDER BY nspname"
        )
        existing = [row[0] for row in cursor.fetchall()]
    privileges.grants_apply(schemas=existing)


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0003_schemastate_clone_sql"),
        ("billing", "0004_gateways_outbox_webhooks"),
        ("onboarding", "0002_exit_pack_runs"),
    ]

    operations = [
        migrations.RunSQL(FORWARD, BACKWARD),
        migrations.RunPython(install, migrations.RunPython.noop),
    ]
