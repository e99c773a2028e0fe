from django.contrib import admin

from tenants.models import Agency, AgencyEvent, Domain, SchemaState


class DomainInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Domain
    extra = 0
    readonly_fields = ["domain", "kind", "is_primary"]
    can_delete = False


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "slug", "kind", "province_code", "status", "activated_at"]
    list_filter = ["status", "kind", "province_code"]
    search_fields = ["name", "slug", "admin_unit_code"]
    readonly_fields = ["schema_name", "slug", "status", "created_at", "activated_at"]
    inlines = [DomainInline]

    def has_add_permission(self, request: object) -> bool:
        return False  # agencies are created by the provisioning service, never by hand


@admin.register(SchemaState)
class SchemaStateAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["schema_name", "fingerprint", "migrations_applied", "created_via", "updated_at"]
    search_fields = ["schema_name"]


@admin.register(AgencyEvent)
class AgencyEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["created_at", "agency", "event", "actor_email"]
    list_filter = ["event"]
