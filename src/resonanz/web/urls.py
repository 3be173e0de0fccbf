"""URL map of the web UI's shell. Everything about one workspace lives under ``/w/<workspace_id>/``.

The shell owns the home page, the workspace switcher and the language switch; the dashboard
(``overview``), the post and channel pages belong to their apps (``posts/urls.py``,
``channels/urls.py``) and are mounted here, so their URL names stay in the ``web`` namespace.
"""

from django.urls import URLPattern, URLResolver, include, path

from resonanz.accounts import urls as account_urls
from resonanz.channels import urls as channel_urls
from resonanz.overview import views as overview_views
from resonanz.posts import urls as post_urls

from . import views, views_language, views_switch

app_name = "web"

workspace_urls: list[URLPattern | URLResolver] = [
    path("", overview_views.dashboard, name="dashboard"),
    path("switch/", views_switch.workspace_switch, name="workspace_switch"),
    path("channels/", include(channel_urls.workspace_urlpatterns)),
    path("posts/", include(post_urls.workspace_urlpatterns)),
    path("settings/", include(account_urls.workspace_urlpatterns)),
]

urlpatterns = [
    path("", views.home, name="home"),
    # Django's set_language (POST language + next), returning to the browser's current page.
    path("i18n/setlang/", views_language.set_language, name="set_language"),
    *channel_urls.urlpatterns,
    *account_urls.urlpatterns,
    path("w/<int:workspace_id>/", include(workspace_urls)),
]
