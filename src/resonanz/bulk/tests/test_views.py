"""Import/Export pages: permissions, the preview report, escaping, CSV/XLSX export, iCal feeds."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from resonanz.accounts.models import Role
from resonanz.accounts.services import membership_set
from resonanz.bulk.models import CalendarFeed, ImportBatch, ImportStatus
from resonanz.bulk.services import calendar_feed_create
from resonanz.campaigns.services import campaign_archive, campaign_create
from resonanz.posts.models import Post, PostStatus, Variant, VariantStatus
from resonanz.posts.services import PostInput, post_create, post_schedule

from .conftest import FUTURE, make_csv

XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def url(name: str, *args) -> str:
    return reverse(f"bulk:{name}", args=args)


def post_file(client: Client, workspace, data: bytes, **extra):
    return client.post(
        url("import_upload", workspace.pk),
        {"file": SimpleUploadedFile("plan.csv", data, content_type="text/csv"), **extra},
    )


def scheduled_post(workspace, owner, channel, text: str, at: datetime, *, campaign=None) -> Post:
    data = PostInput(text=text, channel_ids=[channel.pk], campaign_id=campaign.pk if campaign else None)
    post = post_create(workspace=workspace, author=owner, data=data)
    return post_schedule(workspace=workspace, post=post, actor=owner, at=at)


# -- pages and permissions -------------------------------------------------------------------------


def test_nav_item_and_index_for_roles(owner_client, workspace, member, login) -> None:
    html = owner_client.get(reverse("web:dashboard", args=[workspace.pk])).content.decode()
    assert f'id="nav-bulk" href="{url("index", workspace.pk)}"' in html
    page = owner_client.get(url("index", workspace.pk))
    assert page.status_code == 200
    assert 'id="import-form"' in page.content.decode()
    assert 'aria-current="page">Import/Export' in page.content.decode()
    analyst = login(member(Role.ANALYST))
    html = analyst.get(url("index", workspace.pk)).content.decode()
    assert 'id="import-form"' not in html  # may export and subscribe, not import
    assert 'id="export-form"' in html
    assert 'id="nav-bulk"' in html


def test_strangers_get_404_everywhere(workspace, other_workspace, login) -> None:
    stranger = login(other_workspace.memberships.get().user)
    ws = workspace.pk
    for method, target in [
        ("get", url("index", ws)),
        ("post", url("import_upload", ws)),
        ("get", url("import_template", ws)),
        ("get", url("export_csv", ws)),
        ("get", url("export_xlsx", ws)),
        ("get", url("feeds", ws)),
        ("post", url("feeds", ws)),
    ]:
        assert getattr(stranger, method)(target).status_code == 404, target


def test_analyst_may_not_import(workspace, owner, member, login, mastodon) -> None:
    batch_owner = login(owner)
    post_file(batch_owner, workspace, make_csv([[FUTURE, "09:00", "brand@social.example", "Hallo"]]))
    batch = ImportBatch.objects.get()
    analyst = login(member(Role.ANALYST))
    assert post_file(analyst, workspace, make_csv([[FUTURE, "09:00", "1", "x"]])).status_code == 403
    for method, name in [
        ("get", "import_detail"),
        ("post", "import_confirm"),
        ("post", "import_discard"),
        ("get", "import_problems_csv"),
        ("get", "import_progress"),
        ("post", "import_resume"),
    ]:
        assert getattr(analyst, method)(url(name, workspace.pk, batch.pk)).status_code == 403, name
    assert ImportBatch.objects.count() == 1


def test_batch_of_another_workspace_is_404(
    owner_client, workspace, other_workspace, login, make_channel
) -> None:
    foreign_owner = other_workspace.memberships.get().user
    make_channel("mastodon", handle="x@social.example", ws=other_workspace)
    theirs = login(foreign_owner)
    post_file(theirs, other_workspace, make_csv([[FUTURE, "09:00", "x@social.example", "Geheim"]]))
    batch = ImportBatch.objects.get()
    assert owner_client.get(url("import_detail", workspace.pk, batch.pk)).status_code == 404
    assert owner_client.post(url("import_confirm", workspace.pk, batch.pk)).status_code == 404


# -- import through the pages -----------------------------------------------------------------------


def test_upload_preview_confirm(owner_client, workspace, mastodon) -> None:
    data = make_csv(
        [
            [FUTURE, "09:00", "brand@social.example", "Guten Morgen"],
            [FUTURE, "10:00", "brand@social.example", "x" * 501],
            ["31.02.2099", "10:00", "brand@social.example", "Falsches Datum"],
        ]
    )
    response = post_file(owner_client, workspace, data)
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("import_detail", workspace.pk, batch.pk)
    html = owner_client.get(response["Location"]).content.decode()
    assert "3 rows checked" in html
    assert 'id="row-2" data-status="valid"' in html
    assert 'id="row-3" data-status="refused"' in html
    assert "<strong>Text:</strong> Mastodon (brand@social.example): Part 1 has 501 characters" in html
    assert "<strong>Datum:</strong> “31.02.2099” is not a date" in html  # the column as named in the file
    assert 'id="confirm-import">Import 1 row</button>' in html
    assert not Post.objects.exists()

    problems = owner_client.get(url("import_problems_csv", workspace.pk, batch.pk))
    text = problems.content.decode("utf-8-sig")
    records = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert records[0] == ["Datum", "Uhrzeit", "Kanäle", "Text", "Why refused"]
    assert [r[0] for r in records[1:]] == [FUTURE, "31.02.2099"]

    response = owner_client.post(url("import_confirm", workspace.pk, batch.pk))
    assert response.status_code == 302
    post = Post.objects.get()
    assert (post.text, post.status) == ("Guten Morgen", PostStatus.SCHEDULED)
    html = owner_client.get(response["Location"]).content.decode()
    assert "1 post imported." in html
    assert reverse("web:post_detail", args=[workspace.pk, post.pk]) in html
    listing = owner_client.get(reverse("web:posts", args=[workspace.pk])).content.decode()
    assert "Guten Morgen" in listing
    # A second confirmation changes nothing.
    owner_client.post(url("import_confirm", workspace.pk, batch.pk))
    assert Post.objects.count() == 1


def test_the_report_pages_and_the_pager_keeps_the_problems_filter(owner_client, workspace, mastodon) -> None:
    rows = [["31.02.2099", "10:00", "brand@social.example", f"Zeile {n}"] for n in range(201)]
    post_file(owner_client, workspace, make_csv(rows))
    batch = ImportBatch.objects.get()
    detail = url("import_detail", workspace.pk, batch.pk)

    first = owner_client.get(detail, {"show": "problems"}).content.decode()
    second = owner_client.get(detail, {"show": "problems", "page": "2"}).content.decode()

    assert "Page 1 of 2" in first
    assert 'href="?show=problems&amp;page=2">Next</a>' in first
    assert "Page 2 of 2" in second
    assert 'href="?show=problems&amp;page=1">Previous</a>' in second


def test_user_content_is_escaped_in_the_report(owner_client, workspace, mastodon) -> None:
    data = make_csv([[FUTURE, "09:00", XSS, XSS], [FUTURE, "09:00", "brand@social.example", XSS]])
    post_file(owner_client, workspace, data, as_drafts="on")
    batch = ImportBatch.objects.get()
    html = owner_client.get(url("import_detail", workspace.pk, batch.pk)).content.decode()
    assert XSS not in html
    assert ESCAPED in html
    assert f"There is no channel “{ESCAPED}” in this workspace." in html


def test_unreadable_file_shows_the_reason(owner_client, workspace) -> None:
    response = post_file(owner_client, workspace, b"foo;bar\n1;2\n")
    assert response.status_code == 400
    assert "The header row lacks the columns date, time, channels, text." in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_one_missing_column_is_named_in_the_singular(owner_client, owner, workspace) -> None:
    response = post_file(owner_client, workspace, b"Datum;Uhrzeit;Kan\xc3\xa4le\n01.12.2099;09:00;x\n")
    assert response.status_code == 400
    assert "The header row lacks the column text." in response.content.decode()
    german = Client(HTTP_ACCEPT_LANGUAGE="de")
    german.force_login(owner)
    response = post_file(german, workspace, b"Datum;Uhrzeit;Kan\xc3\xa4le\n01.12.2099;09:00;x\n")
    assert "In der Kopfzeile fehlt die Spalte text." in response.content.decode()
    response = post_file(german, workspace, b"Datum;Uhrzeit\n01.12.2099;09:00\n")
    assert "In der Kopfzeile fehlen die Spalten channels, text." in response.content.decode()


def test_duplicate_file_needs_the_checkbox(owner_client, workspace, mastodon) -> None:
    data = make_csv([[FUTURE, "09:00", "brand@social.example", "Einmal"]])
    post_file(owner_client, workspace, data)
    owner_client.post(url("import_confirm", workspace.pk, ImportBatch.objects.get().pk))
    post_file(owner_client, workspace, data)
    again = ImportBatch.objects.filter(status=ImportStatus.PREVIEW).get()
    html = owner_client.get(url("import_detail", workspace.pk, again.pk)).content.decode()
    assert 'id="duplicate-warning"' in html
    assert 'name="confirm_duplicate"' in html
    response = owner_client.post(url("import_confirm", workspace.pk, again.pk), follow=True)
    assert "already imported in the last 24 hours" in response.content.decode()
    assert Post.objects.count() == 1
    owner_client.post(url("import_confirm", workspace.pk, again.pk), {"confirm_duplicate": "on"})
    assert Post.objects.count() == 2


def test_contributor_imports_drafts(workspace, member, login, mastodon) -> None:
    client = login(member(Role.CONTRIBUTOR))
    html = client.get(url("index", workspace.pk)).content.decode()
    assert "Rows become drafts" in html
    assert 'name="as_drafts"' not in html  # drafts anyway
    post_file(client, workspace, make_csv([[FUTURE, "09:00", "brand@social.example", "Vorschlag"]]))
    client.post(url("import_confirm", workspace.pk, ImportBatch.objects.get().pk))
    post = Post.objects.get()
    assert post.status == PostStatus.DRAFT
    assert post.variants.get().status == VariantStatus.DRAFT


def test_another_member_sees_the_report_but_cannot_confirm(workspace, owner, member, login, mastodon) -> None:
    post_file(login(owner), workspace, make_csv([[FUTURE, "09:00", "brand@social.example", "Von owner"]]))
    batch = ImportBatch.objects.get()
    editor = login(member(Role.EDITOR))
    html = editor.get(url("import_detail", workspace.pk, batch.pk)).content.decode()
    assert 'id="confirm-import"' not in html
    response = editor.post(url("import_confirm", workspace.pk, batch.pk), follow=True)
    assert "Only the person who uploaded the file" in response.content.decode()
    assert not Post.objects.exists()


def test_discard(owner_client, workspace, mastodon) -> None:
    post_file(owner_client, workspace, make_csv([[FUTURE, "09:00", "brand@social.example", "Weg damit"]]))
    batch = ImportBatch.objects.get()
    response = owner_client.post(url("import_discard", workspace.pk, batch.pk))
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == ImportStatus.DISCARDED
    assert not batch.rows.exists()


def test_progress_fragment_polls_while_running_and_refreshes_when_done(
    owner_client, workspace, mastodon, monkeypatch: pytest.MonkeyPatch
) -> None:
    from resonanz.bulk import services, tasks

    monkeypatch.setattr(services, "INLINE_ROWS", 0)
    post_file(owner_client, workspace, make_csv([[FUTURE, "09:00", "brand@social.example", "Später"]]))
    batch = ImportBatch.objects.get()
    html = owner_client.get(url("import_detail", workspace.pk, batch.pk)).content.decode()
    assert f'hx-get="{url("import_progress", workspace.pk, batch.pk)}" hx-trigger="every 2s"' in html
    assert "Checking the rows: 0 of 1 done." in html
    fragment = owner_client.get(url("import_progress", workspace.pk, batch.pk), HTTP_HX_REQUEST="true")
    assert "0 of 1" in fragment.content.decode()
    tasks.check_import.call(batch_id=batch.pk)
    done = owner_client.get(url("import_progress", workspace.pk, batch.pk), HTTP_HX_REQUEST="true")
    assert done["HX-Refresh"] == "true"


def test_example_file_is_importable(owner_client, workspace, mastodon) -> None:
    for language, delimiter, header in [("de", ";", "Datum"), ("en", ",", "date")]:
        response = owner_client.get(url("import_template", workspace.pk), HTTP_ACCEPT_LANGUAGE=language)
        text = response.content.decode("utf-8-sig")
        assert text.startswith(header + delimiter)
        ImportBatch.objects.all().delete()
        uploaded = post_file(owner_client, workspace, response.content)
        assert uploaded.status_code == 302, uploaded.content.decode()
        assert ImportBatch.objects.get().valid_count == 2, language


def test_campaign_column_in_the_report_and_the_example_file(owner_client, workspace, owner, mastodon) -> None:
    herbst = campaign_create(workspace=workspace, actor=owner, name="Herbst", goal="awareness")
    alt = campaign_create(workspace=workspace, actor=owner, name="Alt", goal="awareness")
    campaign_archive(workspace=workspace, campaign=alt, actor=owner)
    data = make_csv(
        [
            [FUTURE, "09:00", "brand@social.example", "Im Herbst", "herbst"],
            [FUTURE, "10:00", "brand@social.example", "Vertippt", "Hersbt"],
            [FUTURE, "11:00", "brand@social.example", "Archiviert", "Alt"],
        ],
        header=["Datum", "Uhrzeit", "Kanäle", "Text", "Kampagne"],
    )
    response = post_file(owner_client, workspace, data)
    html = owner_client.get(response["Location"]).content.decode()
    assert 'id="row-2" data-status="valid"' in html
    assert "Campaign: Herbst</span>" in html  # the preview names the campaign the row goes into
    assert "<strong>Kampagne:</strong> There is no campaign “Hersbt” in this workspace." in html
    assert "<strong>Kampagne:</strong> The campaign “Alt” is archived." in html
    assert 'id="confirm-import">Import 1 row</button>' in html

    # The example file has the column and names an active campaign; it imports into it.
    ImportBatch.objects.all().delete()
    template = owner_client.get(url("import_template", workspace.pk), HTTP_ACCEPT_LANGUAGE="de")
    records = list(csv.reader(io.StringIO(template.content.decode("utf-8-sig")), delimiter=";"))
    assert records[0][6] == "Kampagne"
    assert [r[6] for r in records[1:]] == ["", "Herbst"]
    post_file(owner_client, workspace, template.content)
    batch = ImportBatch.objects.get()
    assert batch.valid_count == 2
    owner_client.post(url("import_confirm", workspace.pk, batch.pk))
    assert sorted(Post.objects.values_list("campaign_id", flat=True), key=str) == [herbst.pk, None]


def test_index_explains_the_campaign_column_and_filters_exports_by_campaign(
    owner_client, workspace, owner
) -> None:
    html = owner_client.get(url("index", workspace.pk)).content.decode()
    assert "<dt>campaign / Kampagne</dt>" in html
    assert 'name="campaign"' not in html  # no campaigns yet: no empty filter
    campaign_create(workspace=workspace, actor=owner, name="Herbst", goal="awareness")
    html = owner_client.get(url("index", workspace.pk), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert 'name="campaign"' in html
    assert "Alle Kampagnen" in html


# -- export ---------------------------------------------------------------------------------------


@pytest.fixture
def winter(workspace, owner):
    return campaign_create(workspace=workspace, actor=owner, name="@Winter-Sale", goal="sales")


@pytest.fixture
def calendar(workspace, owner, mastodon, bluesky, winter):
    """Three entries in December 2099 (CET) and one in 2100, one of them published; the second in the
    campaign "@Winter-Sale" (a name a spreadsheet would run as a formula)."""
    a = scheduled_post(
        workspace,
        owner,
        mastodon,
        '=HYPERLINK("https://evil.example")',
        datetime(2099, 12, 1, 8, 0, tzinfo=UTC),
    )
    b = scheduled_post(
        workspace,
        owner,
        bluesky,
        "Zweiter Beitrag\nmit Zeile",
        datetime(2099, 12, 2, 16, 30, tzinfo=UTC),
        campaign=winter,
    )
    c = scheduled_post(workspace, owner, mastodon, "Veröffentlicht", datetime(2099, 12, 3, 7, 0, tzinfo=UTC))
    Variant.objects.filter(post=c).update(
        status=VariantStatus.PUBLISHED,
        published_at=datetime(2099, 12, 3, 7, 1, tzinfo=UTC),
        remote_url="https://social.example/@brand/1",
    )
    scheduled_post(workspace, owner, mastodon, "Nächstes Jahr", datetime(2100, 2, 1, 8, 0, tzinfo=UTC))
    return a, b, c


def test_export_csv(owner_client, workspace, calendar) -> None:
    a, _b, _c = calendar
    response = owner_client.get(url("export_csv", workspace.pk), {"start": "2099-12-01", "end": "2099-12-31"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="resonanz-brand-a-20991201-20991231.csv"'
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith(
        "\ufeffDate,Time,Network,Channel,Status,Campaign,Title,Text,Thread,Live post,Post ID\r\n"
    )
    records = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert len(records) == 4  # header + three entries of December; February 2100 is outside
    first, second, third = records[1:]
    assert first[:6] == ["2099-12-01", "09:00", "Mastodon", "brand@social.example", "Scheduled", ""]
    assert first[7] == '\'=HYPERLINK("https://evil.example")'  # formula neutralised
    assert first[10] == str(a.pk)
    assert second[1:3] == ["17:30", "Bluesky"]
    assert second[5] == "'@Winter-Sale"  # neutralised like every text cell
    assert second[7] == "Zweiter Beitrag\nmit Zeile"
    assert third[4] == "Published"
    assert third[9] == "https://social.example/@brand/1"


def test_export_csv_for_german_excel(owner_client, workspace, calendar) -> None:
    response = owner_client.get(
        url("export_csv", workspace.pk),
        {"start": "2099-12-01", "end": "2099-12-01", "excel": "de"},
        HTTP_ACCEPT_LANGUAGE="de",
    )
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    records = list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    assert records[0][4:7] == ["Status", "Kampagne", "Titel"]
    assert records[1][:2] == ["01.12.2099", "09:00"]
    assert len(records) == 2


def test_export_filters(owner_client, workspace, calendar, bluesky, winter, other_workspace) -> None:
    base = {"start": "2099-12-01", "end": "2100-12-31"}

    def texts(**params) -> list[str]:
        response = owner_client.get(url("export_csv", workspace.pk), {**base, **params})
        body = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
        return [r[7] for r in list(csv.reader(io.StringIO(body)))[1:]]

    assert texts(channel=bluesky.pk) == ["Zweiter Beitrag\nmit Zeile"]
    assert texts(status="published") == ["Veröffentlicht"]
    assert texts(campaign=winter.pk) == ["Zweiter Beitrag\nmit Zeile"]
    assert len(texts()) == 4
    # Another workspace's campaign is no choice here: the form refuses it.
    foreign = campaign_create(workspace=other_workspace, actor=None, name="Fremd", goal="sales")
    response = owner_client.get(url("export_csv", workspace.pk), {**base, "campaign": foreign.pk})
    assert response.status_code == 400


def test_export_xlsx(owner_client, workspace, calendar) -> None:
    from openpyxl import load_workbook

    a, _b, _c = calendar
    response = owner_client.get(
        url("export_xlsx", workspace.pk), {"start": "2099-12-01", "end": "2099-12-31"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["H"].width == 60
    header = [c.value for c in sheet[1]]
    assert header == [
        "Date",
        "Time",
        "Network",
        "Channel",
        "Status",
        "Campaign",
        "Title",
        "Text",
        "Thread",
        "Live post",
        "Post ID",
    ]
    assert sheet[1][0].font.bold
    row = [c.value for c in sheet[2]]
    assert row[0] == datetime(2099, 12, 1)  # a real date cell (Excel sorts and filters it)
    assert row[1].strftime("%H:%M") == "09:00"
    assert row[2:5] == ["Mastodon", "brand@social.example", "Scheduled"]
    assert row[5] in {None, ""}  # no campaign
    assert row[7] == '\'=HYPERLINK("https://evil.example")'
    assert sheet[2][7].data_type == "s"
    assert row[10] == a.pk
    assert [c.value for c in sheet[3]][5] == "'@Winter-Sale"
    assert sheet[3][5].data_type == "s"
    assert sheet.max_row == 4


def test_export_rejects_bad_ranges_and_allows_analysts(workspace, member, login, calendar) -> None:
    analyst = login(member(Role.ANALYST))
    response = analyst.get(url("export_csv", workspace.pk), {"start": "2099-12-31", "end": "2099-12-01"})
    assert response.status_code == 400
    assert "The end lies before the start." in response.content.decode()
    response = analyst.get(url("export_xlsx", workspace.pk), {"start": "2000-01-01", "end": "2099-12-01"})
    assert response.status_code == 400
    assert analyst.get(url("export_csv", workspace.pk)).status_code == 200  # default range


# -- iCal feeds -----------------------------------------------------------------------------------


def ics(client: Client, token: str, **headers):
    return client.get(reverse("bulk_public:feed", args=[token]), **headers)


def test_create_feed_shows_the_token_once_and_stores_a_hash(owner_client, workspace) -> None:
    response = owner_client.post(url("feeds", workspace.pk), {"name": f"Outlook {XSS}"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    html = response.content.decode()
    assert XSS not in html
    assert ESCAPED in html
    feed = CalendarFeed.objects.get()
    token = html.split('id="feed-url" value="http://testserver/feeds/', 1)[1].split(".ics", 1)[0]
    assert token.startswith(f"rzc_{feed.prefix}_")
    assert token not in feed.secret_hash
    assert 'href="webcal://testserver/feeds/' in html
    assert token not in owner_client.get(url("feeds", workspace.pk)).content.decode()


def test_ical_feed(client: Client, workspace, owner, mastodon, bluesky) -> None:
    from icalendar import Calendar

    now = timezone.now().replace(microsecond=0)
    soon = scheduled_post(workspace, owner, bluesky, "Morgen früh\nzweite Zeile", now + timedelta(days=1))
    scheduled_post(workspace, owner, mastodon, "Zu weit weg", now + timedelta(days=120))
    post_create(
        workspace=workspace, author=owner, data=PostInput(text="Nur Entwurf", channel_ids=[mastodon.pk])
    )
    published = scheduled_post(workspace, owner, mastodon, "Letzte Woche", now + timedelta(minutes=5))
    Variant.objects.filter(post=published).update(
        status=VariantStatus.PUBLISHED, published_at=now - timedelta(days=7)
    )
    token = calendar_feed_create(workspace=workspace, actor=owner, name="Google").token
    response = ics(client, token)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private, max-age=300"
    assert response["ETag"]
    cal = Calendar.from_ical(response.content)
    events = {str(e["SUMMARY"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {"[Bluesky] Morgen früh", "[Mastodon] Letzte Woche"}
    event = events["[Bluesky] Morgen früh"]
    variant = soon.variants.get()
    assert str(event["UID"]) == f"variant-{variant.pk}@testserver"
    assert event.decoded("DTSTART") == now + timedelta(days=1)
    assert event.decoded("DTSTART").tzinfo is not None
    assert f"DTSTART:{(now + timedelta(days=1)):%Y%m%dT%H%M%S}Z".encode() in response.content  # UTC
    assert str(event["URL"]) == f"http://testserver{reverse('web:post_detail', args=[workspace.pk, soon.pk])}"
    assert "Morgen früh\nzweite Zeile" in str(event["DESCRIPTION"])
    assert client.head(reverse("bulk_public:feed", args=[token])).status_code == 200
    # Unchanged calendar: same ETag, 304.
    again = ics(client, token, HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_ical_feed_names_the_campaign(client: Client, workspace, owner, mastodon) -> None:
    from icalendar import Calendar, vCategory

    now = timezone.now().replace(microsecond=0)
    herbst = campaign_create(workspace=workspace, actor=owner, name="Herbst, Teil 2", goal="awareness")
    scheduled_post(workspace, owner, mastodon, "Mit Kampagne", now + timedelta(days=1), campaign=herbst)
    scheduled_post(workspace, owner, mastodon, "Ohne Kampagne", now + timedelta(days=2))
    owner.language = "de"
    owner.save(update_fields=["language"])
    token = calendar_feed_create(workspace=workspace, actor=owner, name="Outlook").token
    cal = Calendar.from_ical(ics(client, token).content)
    events = {str(e["SUMMARY"]): e for e in cal.walk("VEVENT")}
    with_campaign = events["[Mastodon] Mit Kampagne"]
    categories = with_campaign["CATEGORIES"]
    assert isinstance(categories, vCategory)
    assert categories.cats == ["Herbst, Teil 2"]  # one category, its comma escaped
    assert "\nKampagne: Herbst, Teil 2\n" in str(with_campaign["DESCRIPTION"])  # the feed owner's language
    without = events["[Mastodon] Ohne Kampagne"]
    assert "CATEGORIES" not in without
    assert "Kampagne:" not in str(without["DESCRIPTION"])


def test_revoked_unknown_or_orphaned_feeds_are_404(client: Client, workspace, owner, member, login) -> None:
    issued = calendar_feed_create(workspace=workspace, actor=owner, name="Outlook")
    assert ics(client, issued.token).status_code == 200
    assert ics(client, issued.token[:-1] + ("A" if issued.token[-1] != "A" else "B")).status_code == 404
    assert ics(client, "rzc_000000000000_" + "x" * 43).status_code == 404
    assert ics(client, "nonsense").status_code == 404

    # Another editor may not revoke it; the owner may.
    editor = login(member(Role.EDITOR))
    assert editor.post(url("feed_revoke", workspace.pk, issued.feed.pk)).status_code == 403
    response = login(owner).post(url("feed_revoke", workspace.pk, issued.feed.pk), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "was revoked" in response.content.decode()
    assert ics(client, issued.token).status_code == 404

    # A feed stops working when its creator leaves the workspace.
    analyst = member(Role.ANALYST)
    theirs = calendar_feed_create(workspace=workspace, actor=analyst, name="Analyse")
    assert ics(client, theirs.token).status_code == 200
    workspace.memberships.filter(user=analyst).delete()
    assert ics(client, theirs.token).status_code == 404
    membership_set(workspace=workspace, user=analyst, role=Role.ANALYST)
    assert ics(client, theirs.token).status_code == 200


def test_feed_of_another_workspace_cannot_be_revoked_here(owner_client, workspace, other_workspace) -> None:
    foreign = calendar_feed_create(
        workspace=other_workspace, actor=other_workspace.memberships.get().user, name="Fremd"
    )
    assert owner_client.post(url("feed_revoke", workspace.pk, foreign.feed.pk)).status_code == 404
    assert CalendarFeed.objects.get(pk=foreign.feed.pk).revoked_at is None
