from django.contrib import admin

from .models import PublishAttempt


@admin.register(PublishAttempt)
class PublishAttemptAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["variant", "part_index", "outcome", "error_code", "started_at", "finished_at", "worker"]
    list_filter = ["outcome"]
