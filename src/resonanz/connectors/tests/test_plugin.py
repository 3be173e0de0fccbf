"""A network is one folder and one registry line: a test-only connector, registered only through
``override_settings(RESONANZ_CONNECTORS=...)``, appears on the channels page (its connect form, from its
spec), connects, and gets the composer's options, live check and preview partial (from its own folder)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

import pytest
from django.conf import settings as django_settings
from django.test import override_settings
from django.urls import reverse

from resonanz.channels.models import Channel
from resonanz.connectors.base import (
    AccountInfo,
    ChannelAccount,
    ConnectedAccount,
    Connector,
    DraftVariant,
    PublishedRef,
    TextCount,
    ValidationIssue,
)
from resonanz.connectors.base.preview import Segment, Span, split
from resonanz.connectors.base.provider import PublishKey
from resonanz.connectors.base.spec import (
    Brand,
    Choice,
    ConnectField,
    ConnectMethod,
    ConnectSpec,
    FieldKind,
    NetworkSpec,
    PreviewSpec,
    TextLimit,
    TextUnit,
)

TINY = NetworkSpec(
    brand=Brand(display_name="Tinynet", colour="#123456", icon_path="M0 0h24v24H0z"),
    text=(TextLimit(42, TextUnit.CHARACTERS),),
    max_thread_parts=3,
    visibility=(Choice("everyone", "Everyone"), Choice("friends", "Friends only")),
    formats=(Choice("note", "Note", "text and pictures"), Choice("clip", "Clip", "exactly one video")),
    delete=True,
    connect=ConnectSpec(
        method=ConnectMethod.CREDENTIALS,
        title="Connect Tinynet",
        submit_label="Connect Tinynet",
        fields=(
            ConnectField("login", "Login"),
            ConnectField("token", "Token", kind=FieldKind.PASSWORD),
        ),
    ),
    preview=PreviewSpec.in_folder("tiny", stylesheet=False),
)


class TinyConnector(Connector):
    """Only what the pages need; it never talks to a network."""

    network = "tiny"
    spec = TINY

    def verify(self, *, account: ChannelAccount) -> AccountInfo:
        return AccountInfo(remote_id="tiny-1", handle=account.handle)

    def connect_with_credentials(self, *, values: Mapping[str, str]) -> ConnectedAccount:
        info = AccountInfo(remote_id=f"tiny-{values['login']}", handle=values["login"], display_name="Tiny")
        return ConnectedAccount(
            base_url="https://tiny.example", info=info, credentials={"token": values["token"]}
        )

    def count_text(self, *, account: ChannelAccount, text: str, content_warning: str = "") -> TextCount:
        return TextCount(count=len(text), limit=42, unit="characters")

    def validate(self, *, account: ChannelAccount, variant: DraftVariant) -> list[ValidationIssue]:
        issues = [
            ValidationIssue(code="too_long", message=f"Part {i + 1} is over 42.", part_index=i)
            for i, part in enumerate(variant.parts)
            if len(part.text) > 42
        ]
        if variant.format == "clip" and not any(
            m.mime_type.startswith("video/") for m in variant.parts[0].media
        ):
            issues.append(ValidationIssue(code="clip_needs_video", message="A Tinynet clip needs one video."))
        return issues

    def preview_segments(self, *, text: str) -> list[Segment]:
        return split(text, [Span(m.start(), m.end(), "tag") for m in re.finditer(r"\+\w+", text)])

    def publish_part(self, **kwargs: object) -> PublishedRef:  # type: ignore[override]
        raise NotImplementedError

    def find_published(
        self, *, account: ChannelAccount, variant: DraftVariant, part_index: int, key: PublishKey
    ) -> PublishedRef | None:
        return None


@pytest.fixture
def tiny() -> Iterator[dict[str, str]]:
    registry = {"tiny": f"{__name__}.TinyConnector", **django_settings.RESONANZ_CONNECTORS}
    with override_settings(RESONANZ_CONNECTORS=registry):
        yield registry


def test_channels_page_offers_and_connects_the_new_network(tiny, owner_client, workspace) -> None:
    html = owner_client.get(reverse("web:channels", args=[workspace.pk])).content.decode()
    assert 'id="connect-tiny"' in html
    assert "Connect Tinynet" in html
    assert 'name="tiny-login"' in html
    assert 'type="password" name="tiny-token"' in html
    url = reverse("web:channel_connect", args=[workspace.pk, "tiny"])
    response = owner_client.post(url, {"tiny-login": "brand", "tiny-token": "secret"})
    assert response.status_code == 302
    channel = Channel.objects.get(workspace=workspace, network="tiny")
    assert (channel.handle, channel.credentials) == ("brand", {"token": "secret"})
    html = owner_client.get(reverse("web:channels", args=[workspace.pk])).content.decode()
    assert "Tinynet" in html  # the channel list names the network by its declared name


def test_unregistered_network_has_no_connect_page(owner_client, workspace) -> None:
    url = reverse("web:channel_connect", args=[workspace.pk, "tiny"])
    assert owner_client.post(url, {"tiny-login": "brand"}).status_code == 404


def test_composer_uses_the_networks_options_check_and_preview(tiny, owner_client, workspace, make_channel):
    channel = make_channel("tiny", handle="brand", base_url="https://tiny.example")
    html = owner_client.get(reverse("web:post_new", args=[workspace.pk])).content.decode()
    assert "Tinynet · brand" in html
    # Its declared visibilities, no content warning (it declares none).
    assert 'value="friends"' in html
    assert "Friends only" in html
    assert f'name="ov{channel.pk}_cw"' not in html
    check = owner_client.post(
        reverse("web:post_check", args=[workspace.pk]),
        {"text": "Hallo +welt " + "x" * 40, "channels": [channel.pk], "check_touched": "1"},
    ).content.decode()
    assert "Part 1 is over 42." in check  # the connector's own validation message
    assert f'id="tiny-preview-{channel.pk}"' in check  # its own preview partial, from its folder
    assert '<b data-kind="tag">+welt</b>' in check  # split the way the network links text


def test_the_networks_formats_are_offered_checked_stored_and_accepted_by_the_api(
    tiny, owner_client, api, workspace, make_channel
) -> None:
    from resonanz.posts.models import Variant

    channel = make_channel("tiny", handle="brand", base_url="https://tiny.example")
    html = owner_client.get(reverse("web:post_new", args=[workspace.pk])).content.decode()
    assert f'name="ov{channel.pk}_format"' in html  # declared in the spec, rendered generically
    assert '<option value="clip">Clip</option>' in html
    assert "exactly one video" in html  # the format's description as the field's help
    data = {"text": "Hallo", "channels": [channel.pk], f"ov{channel.pk}_format": "clip", "check_touched": "1"}
    check = owner_client.post(reverse("web:post_check", args=[workspace.pk]), data).content.decode()
    assert "A Tinynet clip needs one video." in check  # the connector checks the chosen format
    as_note = {**data, f"ov{channel.pk}_format": "note"}
    assert (
        "clip needs"
        not in owner_client.post(reverse("web:post_check", args=[workspace.pk]), as_note).content.decode()
    )
    response = owner_client.post(reverse("web:post_new", args=[workspace.pk]), {**data, "action": "draft"})
    assert response.status_code == 302
    variant = Variant.objects.get(channel=channel)
    assert variant.format == "clip"
    # Scheduling and publishing check the stored variant the same way (the draft carries the format).
    from resonanz.posts.rules import variant_check, variant_draft

    assert variant_draft(variant=variant).format == "clip"
    assert "clip_needs_video" in [i.code for i in variant_check(variant=variant).issues]
    edit = owner_client.get(reverse("web:post_edit", args=[workspace.pk, variant.post_id])).content.decode()
    assert '<option value="clip" selected>Clip</option>' in edit
    # The API: the format per channel override, an unknown one refused with a clear code.
    base = f"/api/v1/workspaces/{workspace.pk}"
    created = api.post(
        f"{base}/posts/",
        {
            "text": "API",
            "channel_ids": [channel.pk],
            "overrides": [{"channel_id": channel.pk, "format": "note"}],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["variants"][0]["format"] == "note"
    bad = api.post(
        f"{base}/posts/",
        {
            "text": "API",
            "channel_ids": [channel.pk],
            "overrides": [{"channel_id": channel.pk, "format": "hologram"}],
        },
        format="json",
    )
    assert bad.status_code == 400
    assert "hologram" in bad.content.decode()
    # A format of another network is accepted by the API (it is registered) but not by this channel's.
    from django.utils import translation

    from resonanz.connectors.base import DraftPart, DraftVariant
    from resonanz.posts.rules import draft_check

    # The requests above leave their language active in this thread; the message is checked in English.
    with translation.override("en"):
        report = draft_check(channel=channel, draft=DraftVariant(parts=[DraftPart(text="x")], format="reel"))
    assert [i.code for i in report.issues] == ["invalid_format"]
    assert "Tinynet has no format “reel”." in report.issues[0].message
    networks = api.get(f"{base}/networks/").json()
    tiny_spec = next(n for n in networks if n["network"] == "tiny")
    assert [f["value"] for f in tiny_spec["formats"]] == ["note", "clip"]
