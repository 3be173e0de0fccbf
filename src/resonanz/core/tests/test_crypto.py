from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from resonanz.channels.models import Channel
from resonanz.core import crypto


def test_credentials_are_encrypted_at_rest(make_channel) -> None:
    channel = make_channel("mastodon", credentials={"access_token": "very-secret-token"})
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM channels_channel WHERE id = %s", [channel.pk])
        raw = cursor.fetchone()[0]
    assert "very-secret-token" not in raw
    assert Channel.objects.get(pk=channel.pk).credentials == {"access_token": "very-secret-token"}


def test_rotate_keys_reencrypts_with_the_new_primary_key(make_channel, settings) -> None:
    channel = make_channel("mastodon", credentials={"access_token": "tok"})
    old_key = settings.ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [new_key, old_key]
    crypto.reset_key_cache()
    try:
        call_command("rotate_keys", verbosity=0)
        # Only the new key is left: the value must still decrypt.
        settings.ENCRYPTION_KEYS = [new_key]
        crypto.reset_key_cache()
        assert Channel.objects.get(pk=channel.pk).credentials == {"access_token": "tok"}
    finally:
        settings.ENCRYPTION_KEYS = [old_key]
        crypto.reset_key_cache()


def test_value_under_an_unknown_key_is_a_clear_error(settings) -> None:
    token = crypto.encrypt_text("x")
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    crypto.reset_key_cache()
    try:
        try:
            crypto.decrypt_text(token)
        except crypto.DecryptionError as exc:
            assert "cannot be decrypted" in str(exc)
        else:
            raise AssertionError("decrypting under a foreign key must fail")
    finally:
        crypto.reset_key_cache()
