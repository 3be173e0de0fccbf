"""The report pages: who sees and who edits, the period chooser, downloads, branding and schedules
through the forms with clear errors, other workspaces 404."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from resonanz.reports.models import ReportBranding, ReportSchedule

from .conftest import utc
from .test_renderers import png

pytestmark = pytest.mark.django_db


def test_the_measure_nav_links_the_reports(workspace, owner, login) -> None:  # type: ignore[no-untyped-def]
    body = login(owner, "de").get(reverse("reports:list", args=[workspace.pk])).content.decode()
    assert 'id="measure-reports"' in body
    assert f'href="/w/{workspace.pk}/reports/" aria-current="page">Berichte</a>' in body
    assert "PDF herunterladen" in body


@pytest.mark.parametrize(
    ("role", "view", "manage"), [("analyst", 200, 403), ("editor", 200, 200), ("agent", 403, 403)]
)
def test_permissions(workspace, member, login, role, view, manage) -> None:  # type: ignore[no-untyped-def]
    client = login(member(role))
    assert client.get(reverse("reports:list", args=[workspace.pk])).status_code == view
    assert client.get(reverse("reports:download", args=[workspace.pk, "csv"])).status_code == view
    assert client.get(reverse("reports:deliveries", args=[workspace.pk])).status_code == view
    assert client.get(reverse("reports:branding", args=[workspace.pk])).status_code == manage
    assert client.get(reverse("reports:schedule_new", args=[workspace.pk])).status_code == manage


def test_strangers_get_404(other_workspace, owner_client) -> None:  # type: ignore[no-untyped-def]
    for name in ("reports:list", "reports:branding", "reports:schedules", "reports:deliveries"):
        assert owner_client.get(reverse(name, args=[other_workspace.pk])).status_code == 404
    foreign = ReportSchedule.objects.create(
        workspace=other_workspace, name="x", recipients=[], formats=["pdf"]
    )
    assert (
        owner_client.get(reverse("reports:schedule", args=[other_workspace.pk, foreign.pk])).status_code
        == 404
    )


def test_another_workspaces_schedule_is_404_in_mine(workspace, other_workspace, owner_client) -> None:  # type: ignore[no-untyped-def]
    foreign = ReportSchedule.objects.create(
        workspace=other_workspace, name="x", recipients=[], formats=["pdf"]
    )
    assert owner_client.get(reverse("reports:schedule", args=[workspace.pk, foreign.pk])).status_code == 404
    url = reverse("reports:schedule_delete", args=[workspace.pk, foreign.pk])
    assert owner_client.post(url).status_code == 404
    assert ReportSchedule.objects.filter(pk=foreign.pk).exists()


def test_downloads_of_a_custom_period(workspace, owner_client, channel, publish) -> None:  # type: ignore[no-untyped-def]
    publish(channel, utc(2026, 11, 10, 9), title="Sommer")
    query = {"period": "custom", "start": "2026-11-01", "end": "2026-11-30", "language": "de"}
    for fmt, start in (("pdf", b"%PDF-"), ("xlsx", b"PK"), ("csv", "\ufeff".encode())):
        response = owner_client.get(reverse("reports:download", args=[workspace.pk, fmt]), query)
        assert response.status_code == 200
        assert response.content.startswith(start)
        assert (
            response["Content-Disposition"] == f'attachment; filename="brand-a-2026-11-01-2026-11-30.{fmt}"'
        )
    assert owner_client.get(reverse("reports:download", args=[workspace.pk, "doc"])).status_code == 404


def test_a_bad_period_is_a_clear_error(workspace, owner, login) -> None:  # type: ignore[no-untyped-def]
    url = reverse("reports:list", args=[workspace.pk])
    response = login(owner, "de").get(url, {"period": "custom", "start": "2026-11-30", "end": "2026-11-01"})
    assert response.status_code == 400
    assert "Der letzte Tag liegt vor dem ersten Tag." in response.content.decode()


def test_branding_form(workspace, owner, login) -> None:  # type: ignore[no-untyped-def]
    client = login(owner, "de")
    url = reverse("reports:branding", args=[workspace.pk])
    bad = client.post(url, {"primary_color": "blau", "accent_color": "#ff8800", "footer_text": "Fuß"})
    assert bad.status_code == 400
    assert "sechs Hexadezimalziffern" in bad.content.decode()
    assert "Fuß" in bad.content.decode()  # nothing typed is lost
    assert not ReportBranding.objects.exists()
    not_an_image = io.BytesIO(b"GIF89a nonsense")
    not_an_image.name = "logo.png"
    bad_logo = client.post(url, {"primary_color": "#112233", "accent_color": "#ff8800", "logo": not_an_image})
    assert bad_logo.status_code == 400
    assert "logo.png ist kein lesbares Bild." in bad_logo.content.decode()
    logo = io.BytesIO(png())
    logo.name = "logo.png"
    ok = client.post(
        url,
        {
            "primary_color": "#112233",
            "accent_color": "#FF8800",
            "footer_text": "Vertraulich",
            "logo": logo,
            "hide_resonanz_branding": "on",
        },
    )
    assert ok.status_code == 302
    branding = ReportBranding.objects.get(workspace=workspace)
    assert (branding.primary_color, branding.accent_color) == ("#112233", "#ff8800")
    assert branding.hide_resonanz_branding
    assert str(branding.logo.name).endswith(".png")


def test_schedule_form(workspace, owner, login) -> None:  # type: ignore[no-untyped-def]
    client = login(owner, "de")
    url = reverse("reports:schedule_new", args=[workspace.pk])
    data = {
        "name": "Monatsbericht",
        "frequency": "monthly",
        "weekday": "0",
        "day": "1",
        "hour": "8",
        "period": "previous_month",
        "recipients": "lead@kunde.example de\nnope fr",
        "formats": ["pdf", "xlsx"],
        "active": "on",
    }
    bad = client.post(url, data)
    assert bad.status_code == 400
    body = bad.content.decode()
    assert "„nope“ ist keine E-Mail-Adresse." in body
    assert "Monatsbericht" in body
    data["recipients"] = "lead@kunde.example de\ncmo@client.example, en"
    assert client.post(url, data).status_code == 302
    schedule = ReportSchedule.objects.get()
    assert schedule.recipients == [
        {"email": "lead@kunde.example", "language": "de"},
        {"email": "cmo@client.example", "language": "en"},
    ]
    assert schedule.formats == ["pdf", "xlsx"]
    listing = client.get(reverse("reports:schedules", args=[workspace.pk])).content.decode()
    assert "monatlich am 1., 8:00 Uhr" in listing
    assert (
        client.post(reverse("reports:schedule_delete", args=[workspace.pk, schedule.pk])).status_code == 302
    )
    assert not ReportSchedule.objects.exists()


def test_delivery_history_in_local_time(workspace, owner, login) -> None:  # type: ignore[no-untyped-def]
    from resonanz.reports.models import DeliveryStatus, ReportDelivery

    schedule = ReportSchedule.objects.create(
        workspace=workspace, name="Montagsbericht", recipients=[], formats=["pdf"]
    )
    ReportDelivery.objects.create(
        schedule=schedule,
        period_start=utc(2026, 10, 26).date(),
        period_end=utc(2026, 11, 1).date(),
        due_at=utc(2026, 11, 2, 7),
        status=DeliveryStatus.SENT,
        sent_at=utc(2026, 11, 2, 7, 1),
        sent_to=["lead@kunde.example"],
    )
    body = login(owner, "de").get(reverse("reports:deliveries", args=[workspace.pk])).content.decode()
    assert "26.10.2026 \u2013 01.11.2026" in body
    assert "02.11.2026 08:00" in body  # 07:00 UTC in Berlin
    assert "<td>Gesendet</td>" in body
    assert "lead@kunde.example" in body
