"""Issue 8 #6: the OpenAPI schema is probed by schemathesis, bounded, on every ``make test``.

Every operation of ``/api/v1/schema/`` is called in-process through the WSGI application (no server,
the test's own database transaction) with a real API token of the owner of a workspace that has a
channel (on the Mastodon emulator), a post with a variant and a campaign; the path ids are those
objects, so the calls reach real rows instead of answering 404 only. Each answer must not be a server
error and must conform to the schema: status code, content type, headers and body.

The budget is small and fixed (``max_examples``, ``derandomize``) so CI is reproducible and the whole
run stays within a few minutes on two cores (measured in docs/api.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from resonanz.accounts.models import User, Workspace
from resonanz.accounts.services import api_token_create
from resonanz.campaigns.services import campaign_create
from resonanz.channels.models import Channel
from resonanz.posts.services import PostInput, post_create

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def in_process_requests(db: None) -> Iterator[None]:
    """The WSGI handler closes the database connection at the end of each request; that would end the
    test's transaction. Django's own test client disconnects these receivers the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


# Loaded when the module is collected (schemathesis's lazy ``from_fixture`` does not run on pytest 9:
# it reads ``request.node._nodeid``, which pytest 9 no longer has). The schema view needs no database.
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application()).exclude(
    # Connecting an account reaches the server named in the body (any host the fuzzer makes up): the
    # connect flow is tested against the emulators in channels/tests/.
    path_regex=r"/channels/\{network\}/$",
    method="POST",
)


@pytest.fixture
def world(
    in_process_requests: None, workspace: Workspace, owner: User, masto_channel: Channel
) -> dict[str, Any]:
    """Real objects for the path ids, and the owner's token for this workspace."""
    campaign = campaign_create(workspace=workspace, actor=owner, name="Herbst", goal="awareness")
    post = post_create(
        workspace=workspace,
        author=owner,
        data=PostInput(text="Hallo Welt", channel_ids=[masto_channel.pk], campaign_id=campaign.pk),
    )
    variant = post.variants.get()
    issued = api_token_create(user=owner, name="schemathesis", workspaces=[workspace])
    return {
        "headers": {"Authorization": f"Bearer {issued.secret}"},
        "ids": {
            "workspace_id": workspace.pk,
            "channel_id": masto_channel.pk,
            "post_id": post.pk,
            "variant_id": variant.pk,
            "campaign_id": campaign.pk,
        },
    }


@schema.parametrize()
@settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case: Any, world: dict[str, Any]) -> None:
    for name, value in world["ids"].items():
        if case.path_parameters is not None and name in case.path_parameters:
            case.path_parameters[name] = value
    case.call_and_validate(headers=world["headers"], checks=CHECKS)
