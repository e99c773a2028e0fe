"""The transfer trail is append-only in the database itself, like the Form 06 trail."""

from django.db import migrations

FORWARD = """
CREATE TRIGGER exchange_exchangeevent_append_only
    BEFORE UPDATE OR DELETE ON exchange_exchangeevent
    FOR EACH ROW EXECUTE FUNCTION public.motcua_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS exchange_exchangeevent_append_only ON exchange_exchangeevent;
"""


class Migration(migrations.Migration):
    dependencies = [("exchange", "0001_initial"), ("billing", "0003_immutability_guards")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
