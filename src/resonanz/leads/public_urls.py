"""Public pages of the leads app (no login), mounted at the site root in resonanz/config/urls.py:
``/b/<slug>/`` link-in-bio, ``/f/<public id>/<slug>/`` hosted form (``embed/``: in an iframe; ``submit/``: the
POST endpoint of the plain HTML snippet; ``thanks/``), ``/f/confirm/<token>/`` the double opt-in link."""

from django.urls import URLPattern, URLResolver, path

from . import public_views

app_name = "leads_public"
urlpatterns: list[URLPattern | URLResolver] = [
    path("b/<slug:slug>/", public_views.bio_page, name="bio"),
    path("f/confirm/<str:token>/", public_views.confirm, name="confirm"),
    path("f/<str:public_id>/<slug:slug>/", public_views.form_page, name="form"),
    path("f/<str:public_id>/<slug:slug>/embed/", public_views.form_embed, name="embed"),
    path("f/<str:public_id>/<slug:slug>/submit/", public_views.form_submit, name="submit"),
    path("f/<str:public_id>/<slug:slug>/thanks/", public_views.form_thanks, name="thanks"),
]
