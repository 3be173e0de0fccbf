"""Every inbox action a connector declares (``NetworkSpec.inbox_actions``) is implemented, and what it
does not declare stays the base's ``NotSupported``: the inbox offers exactly what the spec says."""

from __future__ import annotations

import pytest
from django.conf import settings

from resonanz.connectors.base.provider import Connector
from resonanz.connectors.base.spec import InboxAction
from resonanz.connectors.registry import get_connector

METHODS = {InboxAction.LIKE: "like", InboxAction.HIDE: "hide", InboxAction.DELETE_REPLY: "delete_reply"}


@pytest.mark.parametrize("network", sorted(settings.RESONANZ_CONNECTORS))
def test_declared_inbox_actions_are_implemented_and_only_those(network: str) -> None:
    connector = get_connector(network)
    for action, method in METHODS.items():
        overridden = getattr(type(connector), method) is not getattr(Connector, method)
        assert overridden is (action in connector.spec.inbox_actions), (network, action)
