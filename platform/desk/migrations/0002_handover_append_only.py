"""The hand-over trail (Form 06) is append-only in the database itself: a trigger rejects
every UPDATE and DELETE, whoever issues it (the ORM, raw SQL, an administrator's psql)."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION desk_handover_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'desk_handover is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER desk_handover_append_only
    BEFORE UPDATE OR DELETE ON desk_handover
    FOR EACH ROW EXECUTE FUNCTION desk_handover_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS desk_handover_append_only ON desk_handover;
DROP FUNCTION IF EXISTS desk_handover_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("desk", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
