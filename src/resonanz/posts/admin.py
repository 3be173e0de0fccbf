from django.contrib import admin

from .models import MediaAsset, PartMedia, Post, PostEvent, QueueSlot, Variant, VariantPart


class VariantInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Variant
    extra = 0
    fields = ("channel", "status", "scheduled_at", "attempt_count", "remote_url", "last_error")
    readonly_fields = fields


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["__str__", "workspace", "status", "scheduled_at", "author"]
    list_filter = ["status", "workspace"]
    inlines = [VariantInline]


class PartInline(admin.TabularInline):  # type: ignore[type-arg]
    model = VariantPart
    extra = 0


@admin.register(Variant)
class VariantAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["pk", "post", "channel", "status", "scheduled_at", "schedule_version", "attempt_count"]
    list_filter = ["status"]
    inlines = [PartInline]


admin.site.register(MediaAsset)
admin.site.register(PartMedia)
admin.site.register(QueueSlot)
admin.site.register(PostEvent)
