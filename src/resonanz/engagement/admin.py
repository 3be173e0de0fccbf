from django.contrib import admin

from .models import Conversation, Message, MetricSample


class MessageInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Message
    extra = 0


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["root_remote_id", "channel", "status", "assignee", "last_message_at"]
    inlines = [MessageInline]


@admin.register(MetricSample)
class MetricSampleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["variant", "taken_at", "likes", "reposts", "replies", "quotes"]


admin.site.register(Message)
