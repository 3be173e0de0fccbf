from django.contrib import admin

from .models import AuditLogEntry, PeriodicRun


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["created_at", "workspace", "actor", "action", "target_type", "target_id"]
    list_filter = ["action"]
    readonly_fields = [f.name for f in AuditLogEntry._meta.fields]


admin.site.register(PeriodicRun)
