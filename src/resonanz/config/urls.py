from django.contrib import admin
from django.urls import include, path

from resonanz.accounts.views import login_unlock
from resonanz.api.errors import not_found

# An address under /api/ that resolves to no route (e.g. a negative id) answers the API's JSON error,
# not the HTML page; everything else keeps Django's page (api/errors.py ``not_found``).
handler404 = not_found

ws = "w/<int:workspace_id>/"
urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/unlock/<str:token>/", login_unlock, name="account_login_unlock"),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include("resonanz.api.urls")),
    # Feature apps of the web UI, each under the workspace prefix (their views use web.scope).
    path(ws + "calendar/", include("resonanz.calendar.urls")),
    path(ws + "approvals/", include("resonanz.approvals.urls")),
    path(ws + "bulk/", include("resonanz.bulk.urls")),
    path(ws + "advocacy/", include("resonanz.advocacy.urls")),
    path(ws + "campaigns/", include("resonanz.campaigns.urls")),
    path(ws + "inbox/", include("resonanz.engagement.urls")),
    path(ws + "listening/", include("resonanz.listening.urls")),
    path("notifications/", include("resonanz.notifications.urls")),
    path(ws + "analytics/", include("resonanz.analytics.urls")),
    path("overview/analytics/", include("resonanz.analytics.agency_urls")),
    path("overview/", include("resonanz.overview.urls")),
    # Public, token-protected pages: external reviewers (no account) and iCal feeds.
    path("review/", include("resonanz.approvals.public_urls")),
    path("feeds/", include("resonanz.bulk.public_urls")),
    # Signed, expiring media addresses that networks fetch attachments from (posts/public_media.py).
    path("public-media/", include("resonanz.posts.public_urls")),
    # Webhooks networks push to (engagement/webhooks.py): signed deliveries, no login.
    path("hooks/", include("resonanz.engagement.public_urls")),
    # Short links (links/public_views.py; links/middleware.py answers them before the session middleware).
    path("l/", include("resonanz.links.public_urls")),
    path(ws + "links/", include("resonanz.links.urls")),
    path(ws + "forecasting/", include("resonanz.forecasting.urls")),
    path(ws + "reports/", include("resonanz.reports.urls")),
    path(ws + "ads/", include("resonanz.ads.urls")),
    # Leads: link-in-bio pages /b/<slug>/ and hosted forms /f/<public id>/<slug>/ (no login), team pages.
    path("", include("resonanz.leads.public_urls")),
    path(ws + "leads/", include("resonanz.leads.urls")),
    path("", include("resonanz.web.urls")),
]
