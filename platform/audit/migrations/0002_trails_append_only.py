"""The agency's audit trail and the dossiers' history are append-only in the database itself,
like the Form 06 trail (desk 0002): a trigger refuses every UPDATE and DELETE, whoever sends it.

Only the trigger lives in the agency schema (the function is public's, billing 0003), so a
schema cloned from the template's snapshot carries it too. ``CREATE OR REPLACE``: re-running the
audit app's migrations in a damaged schema (``migrate_agencies --verify``) meets the dossiers'
trigger already there.
"""

from django.db import migrations

TRAILS = ["audit_auditentry", "dossiers_dossierevent"]

FORWARD = "\n".join(
    f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
    "FOR EACH ROW EXECUTE FUNCTION public.motcua_append_only();"
    for table in TRAILS
)
BACKWARD = "\n".join(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};" for table in TRAILS)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("dossiers", "0004_fee_payments"),
        ("billing", "0003_immutability_guards"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
