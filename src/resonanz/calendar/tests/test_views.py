"""Calendar pages: permissions, month/week/list rendering, htmx partials, localisation, escaping, speed."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from resonanz.posts.models import VariantStatus

from .conftest import BERLIN

XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "calendar-body"}


def cal_url(workspace, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("calendar:index", args=[workspace.pk]) + (f"?{query}" if query else "")


def html_of(response) -> str:
    assert response.status_code == 200, response.content[:2000]
    return str(response.content.decode())


def entry_html(html: str, variant_id: int) -> str:
    match = re.search(rf'<a class="cal-entry[^"]*"[^>]*id="entry-{variant_id}".*?</a>', html, re.S)
    assert match, f"entry-{variant_id} not in page"
    return str(match.group(0))


def test_stranger_gets_404_everywhere(workspace, mastodon, schedule, make_user, login) -> None:
    post = schedule(datetime(2099, 5, 4, 9, 30))
    stranger = login(make_user("nosy@example.com"))
    ws = workspace.pk
    assert stranger.get(cal_url(workspace)).status_code == 404
    assert stranger.get(reverse("calendar:slots", args=[ws])).status_code == 404
    assert stranger.get(reverse("calendar:move", args=[ws]), {"post": post.pk}).status_code == 404
    response = stranger.post(
        reverse("calendar:move", args=[ws]), {"post": post.pk, "local": "2099-05-05T09:30"}
    )
    assert response.status_code == 404
    assert stranger.post(reverse("calendar:slots_save", args=[ws, mastodon.pk]), {}).status_code == 404
    anonymous = Client()
    assert anonymous.get(cal_url(workspace)).status_code == 302


def test_analyst_views_but_cannot_move_or_edit_slots(workspace, mastodon, schedule, member, login) -> None:
    post = schedule(datetime(2099, 5, 4, 9, 30))
    variant = post.variants.get()
    analyst = login(member("analyst"))
    html = html_of(analyst.get(cal_url(workspace, date="2099-05-04")))
    assert f'id="entry-{variant.pk}"' in html
    assert 'draggable="true"' not in html
    assert "data-drop-date" not in html
    move = reverse("calendar:move", args=[workspace.pk])
    assert analyst.post(move, {"post": post.pk, "local": "2099-05-05T09:30"}, **HTMX).status_code == 403
    assert analyst.get(move, {"post": post.pk}).status_code == 403
    variant.refresh_from_db()
    assert variant.scheduled_at == datetime(2099, 5, 4, 9, 30, tzinfo=BERLIN)
    slots = html_of(analyst.get(reverse("calendar:slots", args=[workspace.pk])))
    assert "<form" not in slots.split('id="slots-')[1]  # read-only grid
    save = reverse("calendar:slots_save", args=[workspace.pk, mastodon.pk])
    assert analyst.post(save, {f"ch{mastodon.pk}-new_time": "09:00"}).status_code == 403
    contributor = login(member("contributor"))
    assert contributor.post(move, {"post": post.pk, "local": "2099-05-05T09:30"}).status_code == 403


def test_month_view_defaults_to_this_month_with_today_highlighted(
    workspace, owner_client, bulk_posts
) -> None:
    now = timezone.now().astimezone(BERLIN)
    [post] = bulk_posts([now + timedelta(minutes=5)])
    html = html_of(owner_client.get(cal_url(workspace)))
    today = now.date().isoformat()
    assert re.search(rf'<td class="cal-day[^"]*is-today[^"]*" id="day-{today}"[^>]*aria-current="date"', html)
    assert html.count('aria-current="date"') == 1
    assert f'<h2 id="calendar-title">{now:%B %Y}</h2>' in html
    entry = entry_html(html, post.variants.get().pk)
    assert f'href="/w/{workspace.pk}/posts/{post.pk}/"' in entry
    assert reverse("web:post_detail", args=[workspace.pk, post.pk]) in entry
    assert '<span class="badge status-scheduled">Scheduled</span>' in entry
    assert "Mastodon: brand@social.example" in entry  # the channel as text, not only as colour
    assert "mastodon:" not in entry  # the network's display name, not its slug
    assert 'class="cal-campaign' not in entry  # no campaign, no marker
    assert 'fill="#d9480f"' in entry
    assert 'draggable="true"' in entry
    assert 'id="nav-calendar"' in html
    assert 'aria-current="page">Calendar<' in html
    assert "<html" in html
    assert 'id="calendar-filters"' in html


def test_month_grid_starts_monday_and_caps_busy_days(workspace, owner_client, bulk_posts) -> None:
    day = datetime(2099, 5, 6, 8, 0, tzinfo=BERLIN)
    bulk_posts([day + timedelta(minutes=10 * i) for i in range(7)])
    html = html_of(owner_client.get(cal_url(workspace, view="month", date="2099-05-20")))
    headers = re.findall(r'<th scope="col"><span aria-hidden="true">(\w+)</span>', html)
    assert headers == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert re.findall(r'id="day-(\d{4}-\d\d-\d\d)"', html)[0] == "2099-04-27"  # the Monday before May 1st
    cell = html.split('id="day-2099-05-06"')[1].split("</td>")[0]
    assert cell.count('class="cal-entry') == 4
    assert re.findall(r"\b(\d\d:\d\d)\b", " ".join(re.findall(r'data-time="([^"]+)"', cell))) == [
        "08:00",
        "08:10",
        "08:20",
        "08:30",
    ]  # the first four of the day
    more = re.search(
        r'<a class="cal-more" href="([^"]+)">\+3 more'
        r'<span class="visually-hidden">: Wednesday, May 6, 2099</span></a>',
        cell,
    )
    assert more, cell
    # "+3 more" leads to the day view: all seven, only that day.
    listing = html_of(owner_client.get(more.group(1).replace("&amp;", "&")))
    assert "view=day&amp;date=2099-05-06" in more.group(0)
    assert listing.count('class="cal-entry') == 7
    assert '<h2 id="calendar-title">Wednesday, May 6, 2099</h2>' in listing
    assert re.findall(r'<h3 id="list-([\d-]+)"', listing) == ["2099-05-06"]
    assert 'id="cal-view-list" href="' in listing
    prev_day = re.search(r'id="cal-previous" href="([^"]+)"', listing)
    assert prev_day
    assert "view=day&amp;date=2099-05-05" in prev_day.group(1)
    empty = html_of(owner_client.get(prev_day.group(1).replace("&amp;", "&")))
    assert "No posts on this day." in empty


def test_more_link_counts_per_language_and_keeps_filters(
    workspace, owner, login, mastodon, make_channel, bulk_posts
) -> None:
    bluesky = make_channel("bluesky", handle="brand.bsky.social")
    day = datetime(2099, 5, 6, 8, 0, tzinfo=BERLIN)
    bulk_posts([day + timedelta(minutes=i) for i in range(5)])  # one more than shown
    bulk_posts([day + timedelta(minutes=30 + i) for i in range(9)], channel=bluesky)
    german = login(owner, "de")
    html = html_of(german.get(cal_url(workspace, date="2099-05-06", channel=mastodon.pk)))
    cell = html.split('id="day-2099-05-06"')[1].split("</td>")[0]
    assert cell.count('class="cal-entry') == 4
    more = re.search(r'<a class="cal-more" href="([^"]+)">([^<]+)<span', cell)
    assert more
    assert more.group(2) == "+1 weiterer"  # singular (ngettext)
    assert f"channel={mastodon.pk}" in more.group(1)
    day_view = html_of(german.get(more.group(1).replace("&amp;", "&")))
    assert day_view.count('class="cal-entry') == 5  # the filter is kept: no Bluesky entries
    html = html_of(german.get(cal_url(workspace, date="2099-05-06")))
    assert "+10 weitere" in html.split('id="day-2099-05-06"')[1].split("</td>")[0]  # plural


def test_week_view_places_entries_at_local_hours(workspace, owner_client, bulk_posts) -> None:
    [morning] = bulk_posts([datetime(2099, 5, 6, 9, 45, tzinfo=BERLIN)])
    [late] = bulk_posts([datetime(2099, 5, 10, 23, 30, tzinfo=BERLIN)])  # Sunday 21:30 UTC
    html = html_of(owner_client.get(cal_url(workspace, view="week", date="2099-05-07")))
    assert "Week 19" in html
    assert "05/04/2099 \u2013 05/10/2099" in html
    rows = re.findall(r"<tr>\s*<th scope=\"row\" class=\"cal-hour\">(.*?)</th>(.*?)</tr>", html, re.S)
    assert len(rows) == 24
    hours = dict(rows)
    nine = re.findall(r'<td class="cal-slot[^"]*"[^>]*>(.*?)</td>', hours["9 a.m."], re.S)
    assert len(nine) == 7
    assert f'id="entry-{morning.variants.get().pk}"' in nine[2]  # Wednesday
    eleven_pm = re.findall(r'<td class="cal-slot[^"]*"[^>]*>(.*?)</td>', hours["11 p.m."], re.S)
    assert f'id="entry-{late.variants.get().pk}"' in eleven_pm[6]  # Sunday
    assert 'data-drop-date="2099-05-06" data-drop-hour="9"' in html
    # Empty hours are marked (the phone's agenda leaves them out); the hours with posts are not.
    assert re.search(r'<td class="cal-slot is-empty"', hours["9 a.m."])
    assert "is-empty" not in re.findall(r'<td class="(cal-slot[^"]*)"', hours["9 a.m."])[2]
    # Days without posts say so (shown under the day in the phone's agenda), days with posts do not.
    heads = re.findall(r'<th scope="col" class="cal-weekday([^"]*)"[^>]*>(.*?)</th>', html, re.S)
    assert len(heads) == 7
    empty = [i for i, (classes, text) in enumerate(heads) if "is-empty" in classes]
    assert empty == [0, 1, 3, 4, 5]  # Wednesday and Sunday have posts
    assert all(("No posts on this day." in text) == (i in empty) for i, (_c, text) in enumerate(heads))


def test_entries_show_their_campaign_without_more_queries(
    workspace, owner, owner_client, login, mastodon, bulk_posts, django_assert_max_num_queries
) -> None:
    from resonanz.campaigns.models import Campaign
    from resonanz.campaigns.services import campaign_create
    from resonanz.posts.models import Post

    herbst = campaign_create(
        workspace=workspace, actor=owner, name="Herbstwochen", goal="sales", colour="#15803d"
    )
    evil = campaign_create(workspace=workspace, actor=owner, name=XSS, goal="sales")
    Campaign.objects.filter(pk=evil.pk).update(colour='"/><svg')  # a broken colour in the database
    day = datetime(2099, 5, 6, 9, 0, tzinfo=BERLIN)
    # The week shows two entries an hour: the third one an hour later.
    posts = bulk_posts([day, day + timedelta(minutes=1), day + timedelta(hours=1)])
    Post.objects.filter(pk=posts[0].pk).update(campaign=herbst)
    Post.objects.filter(pk=posts[1].pk).update(campaign=evil)
    variants = [p.variants.get().pk for p in posts]
    for view in ("month", "week", "list"):
        url = cal_url(workspace, view=view, date="2099-05-06")
        owner_client.get(url, **HTMX)
        # The same four queries as without campaigns: name and colour come with the entries.
        with django_assert_max_num_queries(4):
            html = html_of(owner_client.get(url, **HTMX))
        marked = entry_html(html, variants[0])
        marker = f'<span class="cal-campaign" data-campaign="{herbst.pk}" title="Campaign: Herbstwochen">'
        assert marker in marked
        assert 'fill="#15803d"' in marked  # the dot in the campaign's colour
        assert '<span class="visually-hidden">(Campaign: Herbstwochen) </span>' in marked
        escaped = entry_html(html, variants[1])
        assert XSS not in html, view
        assert '"/><svg' not in html, view
        assert f'title="Campaign: {ESCAPED}"' in escaped
        assert 'fill="#7c3aed"' in escaped  # the broken colour is replaced by the campaigns' default
        assert 'class="cal-campaign' not in entry_html(html, variants[2])  # no campaign
    german = html_of(login(owner, "de").get(cal_url(workspace, view="week", date="2099-05-06")))
    assert 'title="Kampagne: Herbstwochen"' in entry_html(german, variants[0])
    assert "Mastodon: brand@social.example" in entry_html(german, variants[0])


def test_list_view_groups_by_day_with_move_links(workspace, owner_client, bulk_posts) -> None:
    bulk_posts([datetime(2099, 5, 4, 8, 0, tzinfo=BERLIN), datetime(2099, 5, 6, 10, 0, tzinfo=BERLIN)])
    [published] = bulk_posts([datetime(2099, 5, 6, 12, 0, tzinfo=BERLIN)], status=VariantStatus.PUBLISHED)
    html = html_of(owner_client.get(cal_url(workspace, view="list", date="2099-05-05")))
    headings = re.findall(r'<h3 id="list-([\d-]+)"><time datetime="[\d-]+">([^<]+)</time>', html)
    assert headings == [("2099-05-04", "Monday, May 4, 2099"), ("2099-05-06", "Wednesday, May 6, 2099")]
    assert html.count('class="cal-move-link"') == 2  # not for the published one
    move_link = re.search(r'class="cal-move-link" href="([^"]+)"', html)
    assert move_link
    assert move_link.group(1).startswith(reverse("calendar:move", args=[workspace.pk]) + "?next=")
    assert f'id="entry-{published.variants.get().pk}"' in html


def test_german_names_and_formats(workspace, owner, login, bulk_posts) -> None:
    bulk_posts([datetime(2099, 5, 6, 9, 5, tzinfo=BERLIN)])
    german = login(owner, "de")
    html = html_of(german.get(cal_url(workspace, date="2099-05-06")))
    assert '<html lang="de">' in html
    assert '<h2 id="calendar-title">Mai 2099</h2>' in html
    assert re.findall(r'<th scope="col"><span aria-hidden="true">(\w+)</span>', html)[0] == "Mo"
    assert "Montag" in html
    assert ">09:05</time>" in html  # 24-hour clock
    week = html_of(german.get(cal_url(workspace, view="week", date="2099-05-06")))
    assert "04.05.2099 \u2013 10.05.2099" in week
    assert '<th scope="row" class="cal-hour">13:00</th>' in week
    listing = html_of(german.get(cal_url(workspace, view="list", date="2099-05-06")))
    assert "Mittwoch, 6. Mai 2099" in listing


def test_navigation_keeps_filters_and_htmx_gets_only_the_body(
    workspace, owner_client, mastodon, bulk_posts
) -> None:
    bulk_posts([datetime(2099, 5, 6, 9, 0, tzinfo=BERLIN)])
    url = cal_url(workspace, view="week", date="2099-05-06", channel=mastodon.pk, status="scheduled")
    html = html_of(owner_client.get(url))
    prev_link = re.search(r'id="cal-previous" href="([^"]+)" hx-get="([^"]+)"', html)
    assert prev_link
    href, hx_get = prev_link.groups()
    assert href == hx_get
    assert f"view=week&amp;date=2099-04-29&amp;channel={mastodon.pk}&amp;status=scheduled" in href
    assert 'hx-push-url="true"' in html
    assert re.search(rf'name="channel" value="{mastodon.pk}" checked', html)
    assert re.search(r'name="status" value="scheduled" checked', html)

    partial = html_of(owner_client.get(url, **HTMX))
    assert "<html" not in partial
    assert partial.lstrip().startswith('<section id="calendar-body"')
    assert '<div id="calendar-state" hx-swap-oob="true">' in partial
    assert '<input type="hidden" name="date" value="2099-05-06">' in partial
    response = owner_client.get(url, **HTMX)
    assert "HX-Request" in response["Vary"]


def test_filters_reach_the_page(workspace, owner_client, mastodon, make_channel, bulk_posts) -> None:
    bluesky = make_channel("bluesky", handle="brand.bsky.social")
    [a] = bulk_posts([datetime(2099, 5, 6, 9, 0, tzinfo=BERLIN)])
    [b] = bulk_posts([datetime(2099, 5, 6, 10, 0, tzinfo=BERLIN)], channel=bluesky)
    html = html_of(owner_client.get(cal_url(workspace, date="2099-05-06", channel=bluesky.pk)))
    assert f'id="entry-{b.variants.get().pk}"' in html
    assert f'id="entry-{a.variants.get().pk}"' not in html
    assert 'id="cal-filter-reset"' in html
    html = html_of(owner_client.get(cal_url(workspace, date="2099-05-06", status="failed")))
    assert 'class="cal-entry' not in html


def test_bad_parameters_fall_back(workspace, owner_client) -> None:
    html = html_of(
        owner_client.get(cal_url(workspace, view="year", date="31.02.2099", channel="x", status="bogus"))
    )
    assert 'id="cal-month"' in html
    assert html_of(owner_client.get(cal_url(workspace, date="9999-12-01")))


def test_user_content_is_escaped(workspace, owner, owner_client, make_channel, bulk_posts) -> None:
    channel = make_channel("mastodon", handle=f"{XSS}@evil.example")
    channel.color = '"/><svg'  # 7 characters: what the column holds on PostgreSQL too
    channel.save()
    owner.name = XSS
    owner.save()
    [post] = bulk_posts([datetime(2099, 5, 6, 9, 0, tzinfo=BERLIN)], channel=channel, text=XSS)
    for view in ("month", "week", "list"):
        html = html_of(owner_client.get(cal_url(workspace, view=view, date="2099-05-06")))
        assert XSS not in html, view
        assert '"/><svg' not in html, view
        entry = entry_html(html, post.variants.get().pk)
        assert f"{ESCAPED} 0" in entry  # the post text (first line)
        assert f"{ESCAPED}@evil.example" in entry  # the channel handle
        assert 'fill="#3b82f6"' in entry  # the broken colour is replaced
    html = html_of(owner_client.get(cal_url(workspace, view="list", date="2099-05-06")))
    assert f'<span class="cal-author small muted">{ESCAPED}</span>' in html
    slots = html_of(owner_client.get(reverse("calendar:slots", args=[workspace.pk])))
    assert XSS not in slots
    assert ESCAPED in slots


def test_no_inline_script_or_style(workspace, owner_client, mastodon, bulk_posts) -> None:
    bulk_posts([datetime(2099, 5, 6, 9, 0, tzinfo=BERLIN)])
    urls = [cal_url(workspace, view=v, date="2099-05-06") for v in ("month", "week", "list")]
    urls.append(reverse("calendar:slots", args=[workspace.pk]))
    for url in urls:
        html = html_of(owner_client.get(url))
        assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", html), url
        assert not re.search(r"<style\b", html), url
        assert not re.search(r"\sstyle=", html), url
        assert not re.search(r"\son[a-z]+=", html), url


@pytest.mark.parametrize("view", ["month", "week", "list"])
def test_5000_posts_few_queries(
    workspace, owner_client, mastodon, make_channel, bulk_posts, django_assert_max_num_queries, view
) -> None:
    bluesky = make_channel("bluesky", handle="brand.bsky.social")
    start = datetime(2099, 1, 1, tzinfo=BERLIN)
    bulk_posts([start + timedelta(minutes=16 * i + 7) for i in range(2500)])
    bulk_posts([start + timedelta(minutes=16 * i + 11) for i in range(2500)], channel=bluesky)
    url = cal_url(workspace, view=view, date="2099-01-14")
    owner_client.get(url)  # warm up (templates, translations)
    # The calendar's own: entries (one query), channels and authors for the filters. The rest belongs to
    # the layout (session, user, scope, workspace switcher, header badges).
    with django_assert_max_num_queries(12), CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = owner_client.get(url)
        elapsed = time.perf_counter() - started
    assert len([q for q in queries if 'FROM "posts_variant"' in q["sql"]]) == 1
    print(
        f"\n{view} view, 5000 posts in the month: {elapsed * 1000:.0f} ms server time (test client), "
        f"{len(response.content) // 1024} KiB"
    )
    html = html_of(response)
    if view == "month":  # 180 posts a day from Jan 1 to Jan 27 (fewer on the 28th): 4 shown, the rest "+N"
        assert html.count('class="cal-entry') == 28 * 4
        assert html.count("+176 more") == 27
        # The database sent only what is shown: 4 rows per day, not 5000.
        [variants] = [q for q in queries if 'FROM "posts_variant"' in q["sql"]]
        assert "ROW_NUMBER()" in variants["sql"].upper()
    elif view == "week":  # 7 or 8 posts in each hour: 2 shown, "+5 more"/"+6 more"
        assert html.count('class="cal-entry') == 7 * 24 * 2
        assert html.count('class="cal-more"') == 7 * 24
        # For screen readers, "+N more" says which day and hour (the first in the page: midnight).
        first = re.search(r'href="[^"]*date=2099-01-14">\+\d more<span[^>]*>([^<]+)<', html)
        assert first
        assert first.group(1) == ": Wednesday, Jan. 14, 2099, midnight"
    else:  # the list shows the whole week (Mon 12 - Sun 18 January): 7 days x 180 posts
        assert html.count('class="cal-entry') == 7 * 180


def test_htmx_navigation_costs_four_queries(
    workspace, owner_client, mastodon, bulk_posts, django_assert_max_num_queries
) -> None:
    bulk_posts([datetime(2099, 1, 14, 9, 0, tzinfo=BERLIN) + timedelta(minutes=i) for i in range(300)])
    for view in ("month", "week", "day"):
        url = cal_url(workspace, view=view, date="2099-01-14")
        owner_client.get(url, **HTMX)
        # session, user, membership with its workspace (the scope), the entries: no layout, no filters.
        with django_assert_max_num_queries(4):
            html = html_of(owner_client.get(url, **HTMX))
        assert html.lstrip().startswith('<section id="calendar-body"'), view
