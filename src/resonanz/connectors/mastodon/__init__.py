"""Mastodon connector: per-instance app registration, OAuth 2 + PKCE, instance-read limits.

Vendor documentation: https://docs.joinmastodon.org/ (methods/statuses, methods/media, methods/instance,
methods/oauth, api/rate-limits). Every quirk is cited next to the code that handles it.
"""
