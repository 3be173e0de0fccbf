from django.contrib import admin

from .models import Channel, OAuthClient, PendingOAuth


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["handle", "network", "workspace", "status", "last_error_at"]
    list_filter = ["network", "status"]
    exclude = ["credentials"]  # never shown, not even to superusers


@admin.register(PendingOAuth)
class PendingOAuthAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["network", "base_url", "workspace", "created_at"]
    exclude = ["data"]


@admin.register(OAuthClient)
class OAuthClientAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["network", "base_url", "redirect_uri", "created_at"]
    exclude = ["credentials"]
