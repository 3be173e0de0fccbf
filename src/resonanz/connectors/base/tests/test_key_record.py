"""The shared record of what each publish key created, for networks without an idempotency key."""

from __future__ import annotations

from resonanz.connectors.base import ChannelAccount


def test_a_recorded_key_is_found_and_the_record_is_bounded() -> None:
    account = ChannelAccount(network="n", base_url="https://n.example")
    assert account.key_record_get(name="published_keys", key="k0") is None
    for i in range(5):
        account.key_record_put(name="published_keys", key=f"k{i}", value=f"id{i}", keep=3)
    assert account.settings_changed
    assert account.key_record_get(name="published_keys", key="k4") == "id4"
    assert account.key_record_get(name="published_keys", key="k1") is None  # the oldest were dropped
    assert list(account.settings["published_keys"]) == ["k2", "k3", "k4"]
    # Records of different names stay apart.
    account.key_record_put(name="reply_keys", key="k4", value="c9")
    assert account.key_record_get(name="published_keys", key="k4") == "id4"
    assert account.key_record_get(name="reply_keys", key="k4") == "c9"


def test_a_damaged_record_reads_as_empty() -> None:
    account = ChannelAccount(network="n", base_url="https://n.example", settings={"published_keys": ["x"]})
    assert account.key_record_get(name="published_keys", key="k") is None
    account.key_record_put(name="published_keys", key="k", value="1")
    assert account.settings["published_keys"] == {"k": "1"}
