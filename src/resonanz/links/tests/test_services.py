from __future__ import annotations

from datetime import UTC, date, datetime
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from resonanz.connectors.registry import network_display_name
from resonanz.core.errors import WorkspaceMismatch
from resonanz.links import services
from resonanz.links.models import Click, DailySalt, ShortLink

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("javascript:alert(1)", "scheme"),
        ("JavaScript://x.example/%0aalert(1)", "scheme"),
        ("ftp://files.example/a", "scheme"),
        ("data:text/html,hi", "scheme"),
        ("https:///nohost", "host"),
        ("https://shop.example/a b", "space"),
        ("", "required"),
        ("https://shop.example/" + "a" * 2000, "long"),
    ],
)
def test_target_validation_refuses(url, code):
    with pytest.raises(ValidationError) as info:
        services.link_target_validate(url=url)
    assert info.value.code == code


def test_target_validation_messages_are_german(settings):
    from django.utils import translation

    with translation.override("de"), pytest.raises(ValidationError) as info:
        services.link_target_validate(url="javascript:alert(1)")
    assert "http://" in info.value.messages[0]
    assert "Nur" in info.value.messages[0]


def test_utm_builder_keeps_query_and_fragment():
    url = services.utm_destination(
        target_url="https://shop.example/p?ref=news&empty=&utm_source=old#top",
        utm={"utm_source": "newsletter", "utm_medium": "email", "utm_term": ""},
    )
    parts = urlsplit(url)
    assert parts.fragment == "top"
    assert parse_qsl(parts.query, keep_blank_values=True) == [
        ("ref", "news"),
        ("empty", ""),
        ("utm_source", "newsletter"),
        ("utm_medium", "email"),
    ]


def test_presets_from_channel_campaign_and_post(make_link, channel, campaign, post):
    post.campaign = campaign
    post.save()
    link = make_link(post=post, channel=channel)
    assert link.utm_source == network_display_name(channel.network).lower()
    assert link.utm_medium == "social"
    assert link.utm_campaign == "sommer-aktion-2026"
    assert link.utm_content == f"post-{post.pk}"
    assert link.campaign == campaign
    query = dict(parse_qsl(urlsplit(link.destination).query))
    assert query["ref"] == "1"
    assert query["utm_campaign"] == "sommer-aktion-2026"


def test_explicit_utm_wins_over_preset(make_link, channel):
    link = make_link(channel=channel, utm={"utm_source": "partner", "utm_content": "hero"})
    assert (link.utm_source, link.utm_medium, link.utm_content) == ("partner", "social", "hero")


def test_one_link_per_post_and_channel(make_link, post, channel, make_channel):
    first = make_link(post=post, channel=channel)
    again = make_link(post=post, channel=channel)
    other = make_link(post=post, channel=make_channel("mastodon", handle="second"))
    assert first.pk == again.pk
    assert other.pk != first.pk
    assert ShortLink.objects.count() == 2


def test_codes_are_url_safe_and_unique(make_link):
    codes = {make_link().code for _ in range(20)}
    assert len(codes) == 20
    assert all(c.replace("-", "").replace("_", "").isalnum() and len(c) == 8 for c in codes)


def test_foreign_objects_refused(make_link, foreign_channel):
    with pytest.raises(WorkspaceMismatch):
        make_link(channel=foreign_channel)


def test_analyst_may_not_create(workspace, member):
    with pytest.raises(PermissionDenied):
        services.link_create(workspace=workspace, actor=member("analyst"), target_url="https://a.example/")


def test_text_shortening_replaces_urls_for_the_channel(workspace, owner, post, channel, settings):
    settings.BASE_URL = "https://app.example"
    services.link_settings_update(workspace=workspace, actor=owner, base_url="https://go.brand.example/")
    result = services.text_links_shorten(
        workspace=workspace,
        actor=owner,
        post=post,
        channel=channel,
        text="Neu: https://shop.example/sommer. Und https://go.brand.example/l/keep bleibt.",
    )
    [link] = result.links
    assert (
        result.text
        == f"Neu: https://go.brand.example/l/{link.code}. Und https://go.brand.example/l/keep bleibt."
    )
    assert link.post == post
    assert link.channel == channel


def test_bots_and_empty_agents():
    assert services.is_bot(user_agent="")
    assert services.is_bot(user_agent="Mozilla/5.0 (compatible; Googlebot/2.1)")
    assert services.is_bot(user_agent="facebookexternalhit/1.1")
    assert services.is_bot(user_agent="curl/8.5.0")
    assert not services.is_bot(user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0")


def test_bot_click_not_recorded(make_link):
    link = make_link()
    assert services.click_record(link_id=link.pk, ip="203.0.113.9", user_agent="SomeBot/1.0") is None
    assert not Click.objects.exists()


def test_click_keeps_no_personal_data(make_link):
    link = make_link()
    ua = "Mozilla/5.0 Firefox/130.0"
    click = services.click_record(link_id=link.pk, ip="203.0.113.9", user_agent=ua)
    assert click is not None
    values = [str(v) for v in Click.objects.values().get()]
    row = " ".join(str(v) for v in Click.objects.values().get().values())
    assert "203.0.113.9" not in row
    assert "Firefox" not in row
    assert len(click.visitor) == 32
    assert values  # the row exists
    salt = DailySalt.objects.get().salt
    assert salt not in row


def test_hash_is_stable_within_a_day_and_rotates(make_link):
    day1, day2 = date(2026, 12, 1), date(2026, 12, 2)
    a = services.visitor_hash(day=day1, ip="198.51.100.1", user_agent="UA")
    assert a == services.visitor_hash(day=day1, ip="198.51.100.1", user_agent="UA")
    assert a != services.visitor_hash(day=day1, ip="198.51.100.2", user_agent="UA")
    salt1 = DailySalt.objects.get(day=day1).salt
    b = services.visitor_hash(day=day2, ip="198.51.100.1", user_agent="UA")
    assert b != a
    # The new day's salt deleted the old one: yesterday's hashes can no longer be recomputed.
    assert list(DailySalt.objects.values_list("day", flat=True)) == [day2]
    assert DailySalt.objects.get().salt != salt1


def test_click_day_is_utc(make_link):
    link = make_link()
    at = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    click = services.click_record(link_id=link.pk, ip="192.0.2.1", user_agent="Mozilla/5.0", now=at)
    assert click is not None
    assert click.day == date(2026, 12, 1)


def test_settings_refuse_bad_base_url(workspace, owner):
    with pytest.raises(ValidationError) as info:
        services.link_settings_update(workspace=workspace, actor=owner, base_url="javascript:x")
    assert "base_url" in info.value.message_dict


def test_click_buffer_writes_in_one_batch(make_link, settings):
    # A long interval: the flusher thread sleeps through the test, the flush is explicit.
    settings.RESONANZ_CLICK_BUFFER_SECONDS = 3600
    link = make_link()
    for i in range(3):
        services.click_record(link_id=link.pk, ip=f"192.0.2.{i}", user_agent="Mozilla/5.0")
    services.click_record(link_id=link.pk, ip="192.0.2.9", user_agent="Googlebot/2.1")
    assert not Click.objects.exists()
    assert services.click_buffer.flush() == 3
    assert Click.objects.filter(link=link).values("visitor").distinct().count() == 3
    assert services.click_buffer.flush() == 0
