"""Provider staff's view of agencies, their schemas' state and their history. Read-only: an
agency changes through ``tenants.services`` (the console's actions), which also write its
history; the admin never edits the rows behind their back."""

from django.contrib import admin

from core.admin import ReadOnlyModelAdmin
from tenants.models import Agency, AgencyEvent, Domain, SchemaState


class DomainInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Domain
    extra = 0
    readonly_fields = ["domain", "kind", "is_primary"]
    can_delete = False

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Agency)
class AgencyAdmin(ReadOnlyModelAdmin):
    list_display = ["name", "slug", "kind", "province_code", "status", "activated_at"]
    list_filter = ["status", "kind", "province_code"]
    search_fields = ["name", "slug", "admin_unit_code"]
    inlines = [DomainInline]


@admin.register(SchemaState)
class SchemaStateAdmin(ReadOnlyModelAdmin):
    list_display = ["schema_name", "fingerprint", "migrations_applied", "created_via", "updated_at"]
    search_fields = ["schema_name"]
    exclude = ["clone_sql"]  # the template's whole DDL: not for a form


@admin.register(AgencyEvent)
class AgencyEventAdmin(ReadOnlyModelAdmin):
    list_display = ["created_at", "agency", "event", "actor_email"]
    list_filter = ["event"]
