"""The real networks' preview partials extend the composer's generic preview and change only what their
network shows differently (the blocks of posts/composer/_preview_generic.html)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.template.loader import render_to_string

from resonanz.channels.models import Channel
from resonanz.posts.previews import GENERIC_PREVIEW, channel_preview


def _actions(html: str) -> str:
    return html.split('<p class="pv-actions" aria-hidden="true">', 1)[1].split("</p>", 1)[0]


@pytest.mark.django_db
@pytest.mark.parametrize(("network", "like"), [("bluesky", "♡"), ("mastodon", "☆")])
def test_a_networks_preview_is_the_generic_one_with_its_own_like_icon(
    make_channel: Callable[..., Channel], network: str, like: str
) -> None:
    channel = make_channel(network, handle="brand")
    pv = channel_preview(channel=channel, texts=["Hallo", "Teil zwei"], media=[])

    own = render_to_string(pv.template, {"pv": pv})
    generic = render_to_string(GENERIC_PREVIEW, {"pv": pv})

    assert pv.template == f"connectors/{network}/preview.html"
    assert f'class="pv pv-{network}"' in own
    assert own.count('class="pv-post"') == 2
    assert _actions(own) == f"<span>↩</span><span>⇄</span><span>{like}</span><span>⋯</span>"
    assert own.replace(_actions(own), "") == generic.replace(_actions(generic), "")
