"""REST API of leads: forms, leads list/export, counts, person export and erasure; permissions, tenancy."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from resonanz.leads import services
from resonanz.leads.models import Lead, LeadForm

pytestmark = pytest.mark.django_db


def _base(workspace) -> str:
    return f"/api/v1/workspaces/{workspace.pk}/leads/"


def _lead(workspace, form, email):
    services.lead_submit(
        workspace=workspace,
        form=form,
        data={"email": email, "consent": "1", "consent_version": str(form.consent_version)},
        language="en",
        attribution=services.AttributionInput(),
    )


def test_forms_crud(api: APIClient, workspace):
    body = {"name": "Webinar", "form_fields": ["company"], "consent_de": "Ja", "consent_en": "Yes"}
    created = api.post(_base(workspace) + "forms/", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["form_fields"] == ["company"]
    assert created.json()["double_opt_in"] is True
    form_id = created.json()["id"]
    assert api.get(_base(workspace) + "forms/").json()[0]["hosted_url"].endswith("/webinar/")
    updated = api.put(_base(workspace) + f"forms/{form_id}/", body | {"consent_de": "Neu"}, format="json")
    assert updated.json()["consent_version"] == 2
    invalid = api.post(
        _base(workspace) + "forms/", {"name": "Webinar", "consent_de": "", "consent_en": "x"}, format="json"
    )
    assert invalid.status_code == 400
    assert api.delete(_base(workspace) + f"forms/{form_id}/").status_code == 204
    assert not LeadForm.objects.exists()


def test_leads_list_export_counts_person(api: APIClient, workspace, make_form):
    form = make_form(double_opt_in=False)
    _lead(workspace, form, "a@example.de")
    _lead(workspace, form, "b@example.de")
    listed = api.get(_base(workspace), {"status": "confirmed"})
    assert [row["email"] for row in listed.json()] == ["b@example.de", "a@example.de"]
    assert api.get(_base(workspace), {"status": "nope"}).status_code == 400
    export = api.get(_base(workspace) + "export/")
    assert export["Content-Type"].startswith("text/csv")
    assert "a@example.de" in export.content.decode("utf-8-sig")
    start = (timezone.now() - timedelta(days=1)).isoformat()
    end = (timezone.now() + timedelta(days=1)).isoformat()
    counts = api.get(_base(workspace) + "counts/", {"by": "form", "start": start, "end": end})
    assert counts.json() == [{"key": form.pk, "count": 2}]
    person = api.get(_base(workspace) + "person/", {"email": "a@example.de"})
    assert person.json()["leads"][0]["email"] == "a@example.de"
    erased = api.post(_base(workspace) + "person/erase/", {"email": "a@example.de"}, format="json")
    assert erased.json() == {"erased": 1}
    assert list(Lead.objects.values_list("email", flat=True)) == ["b@example.de"]
    counts = api.get(_base(workspace) + "counts/", {"by": "form", "start": start, "end": end})
    assert counts.json() == [{"key": form.pk, "count": 2}]  # the statistics stay


def test_permissions_and_tenancy(workspace, other_workspace, member, make_form):
    analyst = APIClient()
    analyst.force_authenticate(member("analyst"))
    assert analyst.get(_base(workspace)).status_code == 403
    assert (
        analyst.get(_base(workspace) + "counts/", {"start": "2026-01-01", "end": "2026-02-01"}).status_code
        == 200
    )
    editor = APIClient()
    editor.force_authenticate(member("editor"))
    assert (
        editor.post(_base(workspace) + "person/erase/", {"email": "a@example.de"}, format="json").status_code
        == 403
    )
    stranger = APIClient()
    stranger.force_authenticate(other_workspace.memberships.get().user)
    assert stranger.get(_base(workspace)).status_code == 404
    form = make_form()
    own_path = f"/api/v1/workspaces/{other_workspace.pk}/leads/forms/{form.pk}/"
    assert stranger.get(own_path).status_code == 404
