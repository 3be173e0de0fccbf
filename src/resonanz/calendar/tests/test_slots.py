"""The queue-slot editor: weekly grid per channel, add/remove through queue_slot_set, next free slots."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from django.urls import reverse
from django.utils import timezone

from resonanz.posts.models import QueueSlot
from resonanz.posts.services import queue_slot_set

from .conftest import BERLIN


def slots_of(channel) -> list[tuple[int, time]]:
    return list(QueueSlot.objects.filter(channel=channel).values_list("weekday", "time"))


def test_grid_shows_slots_and_next_free_times(workspace, owner, owner_client, mastodon, schedule) -> None:
    queue_slot_set(workspace=workspace, channel=mastodon, actor=owner, slots=[(0, "09:00"), (3, "17:30")])
    html = owner_client.get(reverse("calendar:slots", args=[workspace.pk])).content.decode()
    card = html.split(f'id="slots-{mastodon.pk}"')[1]
    assert re.search(rf'name="ch{mastodon.pk}-slot" value="0-09:00" checked', card)
    assert re.search(rf'name="ch{mastodon.pk}-slot" value="3-17:30" checked', card)
    assert re.search(rf'name="ch{mastodon.pk}-slot" value="1-09:00">', card)  # offered, not set
    assert '<th scope="row">9 a.m.</th>' in card
    assert '<th scope="row">5:30 p.m.</th>' in card
    free = re.findall(r'<li><time datetime="([^"]+)">', card.split(f'id="next-free-{mastodon.pk}"')[1])
    assert len(free) == 5
    instants = [datetime.fromisoformat(v) for v in free]
    assert instants == sorted(instants)
    assert len(set(instants)) == 5
    assert all(i > timezone.now() for i in instants)
    assert {(i.weekday(), i.strftime("%H:%M")) for i in instants} <= {(0, "09:00"), (3, "17:30")}
    assert all(i.utcoffset() in {timedelta(hours=1), timedelta(hours=2)} for i in instants)  # Berlin time


def test_next_free_skips_taken_slots(workspace, owner, owner_client, mastodon, schedule) -> None:
    queue_slot_set(workspace=workspace, channel=mastodon, actor=owner, slots=[(d, "09:00") for d in range(7)])
    now = timezone.now().astimezone(BERLIN)
    tomorrow_nine = datetime.combine(now.date() + timedelta(days=1), time(9, 0))
    schedule(tomorrow_nine)
    html = owner_client.get(reverse("calendar:slots", args=[workspace.pk])).content.decode()
    free = [
        datetime.fromisoformat(v)
        for v in re.findall(r'<li><time datetime="([^"]+)">', html.split(f'id="next-free-{mastodon.pk}"')[1])
    ]
    assert tomorrow_nine.replace(tzinfo=BERLIN) not in free
    assert len(free) == 5


def test_add_and_remove_times(workspace, owner, owner_client, mastodon) -> None:
    queue_slot_set(workspace=workspace, channel=mastodon, actor=owner, slots=[(0, "09:00"), (3, "17:30")])
    url = reverse("calendar:slots_save", args=[workspace.pk, mastodon.pk])
    p = f"ch{mastodon.pk}"
    response = owner_client.post(
        url, {f"{p}-slot": ["0-09:00"], f"{p}-new_time": "12:15", f"{p}-new_days": ["1", "4"]}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("calendar:slots", args=[workspace.pk])
    assert slots_of(mastodon) == [(0, time(9, 0)), (1, time(12, 15)), (4, time(12, 15))]
    assert (
        "Saved the posting times of brand@social.example."
        in owner_client.get(response["Location"]).content.decode()
    )


def test_htmx_save_swaps_the_card(workspace, owner_client, mastodon) -> None:
    url = reverse("calendar:slots_save", args=[workspace.pk, mastodon.pk])
    p = f"ch{mastodon.pk}"
    response = owner_client.post(
        url,
        {f"{p}-new_time": "08:00", f"{p}-new_days": ["0", "1", "2"]},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET=f"slots-{mastodon.pk}",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<section class="card cal-slots" id="slots-{mastodon.pk}"')
    assert "<html" not in html
    assert 'role="status"' in html
    assert html.count(" checked") == 3
    assert len(slots_of(mastodon)) == 3


def test_form_errors(workspace, owner, owner_client, mastodon) -> None:
    queue_slot_set(workspace=workspace, channel=mastodon, actor=owner, slots=[(0, "09:00")])
    url = reverse("calendar:slots_save", args=[workspace.pk, mastodon.pk])
    p = f"ch{mastodon.pk}"
    for data, message in [
        ({f"{p}-slot": ["0-09:00"], f"{p}-new_time": "10:00"}, "Choose at least one day for the new time."),
        ({f"{p}-new_days": ["2"]}, "Enter the new time, e.g. 09:30."),
        ({f"{p}-slot": ["9-09:00"]}, "is not a posting time."),
        ({f"{p}-new_time": "25:00", f"{p}-new_days": ["2"]}, "Enter a valid time."),
    ]:
        response = owner_client.post(url, data)
        assert response.status_code == 400, data
        assert message in response.content.decode(), data
        partial = owner_client.post(url, data, HTTP_HX_REQUEST="true", HTTP_HX_TARGET=f"slots-{mastodon.pk}")
        assert partial.status_code == 200
        assert message in partial.content.decode()
    assert slots_of(mastodon) == [(0, time(9, 0))]  # unchanged


def test_permissions(workspace, mastodon, member, login, other_workspace, make_channel) -> None:
    editor = login(member("editor"))
    url = reverse("calendar:slots_save", args=[workspace.pk, mastodon.pk])
    assert (
        editor.post(
            url, {f"ch{mastodon.pk}-new_time": "09:00", f"ch{mastodon.pk}-new_days": ["0"]}
        ).status_code
        == 302
    )
    contributor = login(member("contributor"))
    html = contributor.get(reverse("calendar:slots", args=[workspace.pk])).content.decode()
    assert "Save posting times" not in html
    assert '<span aria-hidden="true">●</span>' in html
    assert contributor.post(url, {}).status_code == 403
    foreign = make_channel("mastodon", handle="rival", ws=other_workspace)
    owner_like = login(member("admin"))
    assert (
        owner_like.post(reverse("calendar:slots_save", args=[workspace.pk, foreign.pk]), {}).status_code
        == 404
    )
    assert slots_of(mastodon) == [(0, time(9, 0))]
