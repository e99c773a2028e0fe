"""The hand-over trail (Form 06) is append-only in the database itself: a trigger rejects
every UPDATE and DELETE, whoever issues it (the ORM, raw SQL, an administrator's psql)."""

from django.db import migrations

# public.motcua_append_only() is created once, in the public schema, by billing's migration
# 0003 (shared migrations run before any agency schema's): agency schemas hold only the trigger,
# so a schema cloned from the template's snapshot carries it too.
FORWARD = """
CREATE TRIGGER desk_handover_append_only
    BEFORE UPDATE OR DELETE ON desk_handover
    FOR EACH ROW EXECUTE FUNCTION public.motcua_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS desk_handover_append_only ON desk_handover;
"""


class Migration(migrations.Migration):
    dependencies = [("desk", "0001_initial"), ("billing", "0003_immutability_guards")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
