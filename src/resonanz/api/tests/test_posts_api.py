"""The REST API does what the UI does: validate, create, schedule (instant, local, queue), reschedule,
cancel, list, delete — with clear errors and Idempotency-Key support."""

import pytest

from resonanz.posts.models import Variant, VariantStatus


@pytest.fixture
def base(workspace) -> str:
    return f"/api/v1/workspaces/{workspace.pk}"


@pytest.fixture
def channel(make_channel):
    return make_channel("mastodon")


def _create(api, base, channel, text="Hallo Welt", **extra):
    response = api.post(f"{base}/posts/", {"text": text, "channel_ids": [channel.pk], **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_validate_draft_without_saving(api, base, channel) -> None:
    response = api.post(
        f"{base}/posts/validate/", {"text": "x" * 501, "channel_ids": [channel.pk]}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is False
    variant = body["variants"][0]
    assert variant["counts"][0]["count"] == 501
    assert variant["counts"][0]["limit"] == 500
    assert variant["issues"][0]["count"] == 501
    assert variant["issues"][0]["limit"] == 500
    assert api.get(f"{base}/posts/").json()["count"] == 0, "validation must not keep anything"


def test_schedule_reschedule_cancel_delete(api, base, channel) -> None:
    post = _create(api, base, channel)
    response = api.post(f"{base}/posts/{post['id']}/schedule/", {"local": "2099-12-01T09:00"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["scheduled_at"] == "2099-12-01T08:00:00Z"
    response = api.post(
        f"{base}/posts/{post['id']}/schedule/", {"at": "2099-12-02T10:00:00+02:00"}, format="json"
    )
    assert response.json()["variants"][0]["scheduled_at"] == "2099-12-02T08:00:00Z"
    assert Variant.objects.get(post_id=post["id"]).schedule_version == 2
    response = api.post(f"{base}/posts/{post['id']}/cancel/")
    assert response.json()["status"] == "cancelled"
    assert Variant.objects.get(post_id=post["id"]).status == VariantStatus.CANCELLED
    assert api.delete(f"{base}/posts/{post['id']}/").status_code == 204
    assert api.get(f"{base}/posts/{post['id']}/").status_code == 404


@pytest.mark.parametrize(
    ("local", "code"),
    [("2099-03-29T02:30", "nonexistent_local_time"), ("2099-10-25T02:30", "ambiguous_local_time")],
)
def test_dst_errors_are_clear(api, base, channel, local, code) -> None:
    post = _create(api, base, channel)
    response = api.post(f"{base}/posts/{post['id']}/schedule/", {"local": local}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == code
    ok = api.post(f"{base}/posts/{post['id']}/schedule/", {"local": local, "fold": 0}, format="json")
    assert (ok.status_code == 200) is (code == "ambiguous_local_time")


OFFSETS = ["2099-12-01T09:00:00-05:00", "2099-12-01T09:00+01:00", "2099-12-01T09:00Z"]


@pytest.mark.parametrize("local", OFFSETS)
@pytest.mark.parametrize(("field", "path"), [("local", "schedule/"), ("planned_local", "")])
def test_a_wall_clock_time_with_any_offset_is_refused(api, base, channel, local, field, path) -> None:
    """An offset means an instant: converting it would schedule neither that instant nor the wall-clock
    time the field stands for (issue #8: ``-05:00`` was accepted)."""
    post = _create(api, base, channel)
    url = f"{base}/posts/{post['id']}/{path}"
    data = {field: local} if path else {"text": "Hallo Welt", "channel_ids": [channel.pk], field: local}
    call = api.post if path else api.put
    response = call(url, data, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400, response.content
    assert "without offset" in response.content.decode()
    assert Variant.objects.get(post_id=post["id"]).scheduled_at is None
    german = call(url, data, format="json", HTTP_ACCEPT_LANGUAGE="de")
    assert "ohne Zeitverschiebung" in german.content.decode()


@pytest.mark.parametrize("local", ["2099-12-01T12:99:00", "2099-02-30T09:00", "2099-12-01T25:00Z"])
def test_an_impossible_wall_clock_time_is_a_400_not_a_server_error(api, base, channel, local) -> None:
    # Well-formed but impossible values make Django's parse_datetime raise (found by schemathesis).
    post = _create(api, base, channel)
    response = api.post(f"{base}/posts/{post['id']}/schedule/", {"local": local}, format="json")
    assert response.status_code == 400, response.content
    assert "local" in str(response.json()), response.json()
    assert Variant.objects.get(post_id=post["id"]).scheduled_at is None


def test_schedule_needs_exactly_one_time(api, base, channel) -> None:
    post = _create(api, base, channel)
    response = api.post(f"{base}/posts/{post['id']}/schedule/", {"now": True, "queue": True}, format="json")
    assert response.status_code == 400


def test_too_long_post_cannot_be_scheduled(api, base, channel) -> None:
    post = _create(api, base, channel, text="ü" * 600)
    response = api.post(f"{base}/posts/{post['id']}/schedule/", {"now": True}, format="json")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_failed"
    assert "600" in body["detail"]
    assert "500" in body["detail"]
    assert Variant.objects.get(post_id=post["id"]).status == VariantStatus.DRAFT


def test_idempotency_key(api, base, channel) -> None:
    first = api.post(
        f"{base}/posts/",
        {"text": "Einmal", "channel_ids": [channel.pk]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    again = api.post(
        f"{base}/posts/",
        {"text": "Einmal", "channel_ids": [channel.pk]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    other = api.post(
        f"{base}/posts/",
        {"text": "Anders", "channel_ids": [channel.pk]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert api.get(f"{base}/posts/").json()["count"] == 1


def test_bad_input_is_a_clear_error(api, base, channel) -> None:
    response = api.post(f"{base}/posts/", {"text": "x"}, format="json")
    assert response.status_code == 400
    assert "channel_ids" in response.json()
    response = api.post(
        f"{base}/posts/",
        {
            "text": "x",
            "channel_ids": [channel.pk],
            "overrides": [{"channel_id": channel.pk, "visibility": "everyone"}],
        },
        format="json",
    )
    assert response.status_code == 400


def test_queue_slots_and_add_to_queue(api, base, channel) -> None:
    response = api.put(
        f"{base}/channels/{channel.pk}/queue-slots/", [{"weekday": 0, "time": "09:00"}], format="json"
    )
    assert response.status_code == 200
    post = _create(api, base, channel)
    response = api.post(f"{base}/posts/{post['id']}/schedule/", {"queue": True}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "scheduled"
