"""Channel health: a dead token is found by the periodic check, flagged once, and people are told."""

from django.core import mail

from resonanz.channels.models import ChannelStatus
from resonanz.channels.services import channel_verify_all


def test_revoked_token_is_flagged_and_owners_are_emailed(masto, masto_channel, owner, member) -> None:
    admin = member("admin")
    admin.language = "en"
    admin.save()
    member("editor")
    channel = masto_channel
    token = channel.credentials["access_token"]
    assert channel_verify_all() == {"ok": 1, "flagged": 0}
    channel.refresh_from_db()
    assert channel.settings["instance"]["max_characters"] == 500, "limits are read from the instance"
    masto.revoke_token(token)
    assert channel_verify_all() == {"ok": 0, "flagged": 1}
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.RECONNECT_NEEDED
    assert "revoked" in channel.last_error
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted([owner.email, admin.email])
    english = next(m for m in mail.outbox if m.to == [admin.email])
    assert "needs reconnecting" in english.subject
    # Flagged channels are not re-checked or re-notified on every run.
    assert channel_verify_all() == {"ok": 0, "flagged": 0}
    assert len(mail.outbox) == 2
