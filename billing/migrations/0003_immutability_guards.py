"""The database itself refuses to rewrite issued invoices, their lines, the usage ledger and the
billing audit trail, whatever code path (ORM, raw SQL, admin) tries."""

from django.db import migrations

GUARDS = r"""
CREATE OR REPLACE FUNCTION public.motcua_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$ LANGUAGE plpgsql;

CREATE TRIGGER usage_event_append_only BEFORE UPDATE OR DELETE ON public.billing_usageevent
    FOR EACH ROW EXECUTE FUNCTION public.motcua_append_only();
CREATE TRIGGER billing_event_append_only BEFORE UPDATE OR DELETE ON public.billing_billingevent
    FOR EACH ROW EXECUTE FUNCTION public.motcua_append_only();

CREATE OR REPLACE FUNCTION public.billing_invoice_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'invoice % is issued and cannot be deleted', OLD.number
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status <> 'draft' AND (
        NEW.status = 'draft'
        OR (NEW.number, NEW.billing_account_id, NEW.period_start, NEW.period_end, NEW.total,
            NEW.payer_name, NEW.payer_tax_code, NEW.payer_address, NEW.payer_email, NEW.issued_at)
           IS DISTINCT FROM
           (OLD.number, OLD.billing_account_id, OLD.period_start, OLD.period_end, OLD.total,
            OLD.payer_name, OLD.payer_tax_code, OLD.payer_address, OLD.payer_email, OLD.issued_at)
    ) THEN
        RAISE EXCEPTION 'invoice % is issued and cannot be rewritten', OLD.number
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER invoice_immutable BEFORE UPDATE OR DELETE ON public.billing_invoice
    FOR EACH ROW EXECUTE FUNCTION public.billing_invoice_guard();

CREATE OR REPLACE FUNCTION public.billing_invoiceline_guard() RETURNS trigger AS $$
DECLARE
    invoice_status text;
BEGIN
    SELECT status INTO invoice_status FROM public.billing_invoice
        WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.invoice_id ELSE NEW.invoice_id END;
    IF invoice_status IS NOT NULL AND invoice_status <> 'draft' THEN
        RAISE EXCEPTION 'the lines of an issued invoice cannot change'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER invoice_line_immutable BEFORE INSERT OR UPDATE OR DELETE ON public.billing_invoiceline
    FOR EACH ROW EXECUTE FUNCTION public.billing_invoiceline_guard();
"""

UNDO = r"""
DROP TRIGGER IF EXISTS invoice_line_immutable ON public.billing_invoiceline;
DROP TRIGGER IF EXISTS invoice_immutable ON public.billing_invoice;
DROP TRIGGER IF EXISTS billing_event_append_only ON public.billing_billingevent;
DROP TRIGGER IF EXISTS usage_event_append_only ON public.billing_usageevent;
DROP FUNCTION IF EXISTS public.billing_invoiceline_guard();
DROP FUNCTION IF EXISTS public.billing_invoice_guard();
DROP FUNCTION IF EXISTS public.motcua_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_plans_accounts_invoices")]

    operations = [migrations.RunSQL(GUARDS, UNDO)]
