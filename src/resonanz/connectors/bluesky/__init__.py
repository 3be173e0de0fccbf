"""Bluesky (atproto) connector: app-password sessions against the account's PDS, XRPC over HTTP.

Modules: ``client`` (HTTP + error mapping), ``oauth`` (login), ``mapping`` (pure record building and
response parsing), ``media`` (image fitting), ``provider`` (the :class:`Connector`).
"""
