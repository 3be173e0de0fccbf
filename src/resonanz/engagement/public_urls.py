"""Public webhook addresses (no login): ``/hooks/<network>/`` (engagement/webhooks.py)."""

from django.urls import path

from . import webhooks

app_name = "hooks"
urlpatterns = [
    path("<slug:network>/", webhooks.webhook, name="receive"),
]
