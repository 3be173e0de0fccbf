"""Campaign services and selectors, and how posts use campaigns (posts.services)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from resonanz.accounts.models import Role
from resonanz.campaigns.models import Campaign, Goal
from resonanz.campaigns.selectors import campaign_choices, campaign_get, campaign_list
from resonanz.campaigns.services import campaign_archive, campaign_create, campaign_update
from resonanz.core.models import AuditLogEntry
from resonanz.posts.services import PostError, PostInput, Unchanged, post_create, post_update


def test_the_eight_goals() -> None:
    assert Goal.values == [
        "awareness",
        "reach",
        "traffic",
        "leads",
        "sales",
        "loyalty",
        "support",
        "feedback",
    ]


def test_create_cleans_and_records(workspace, owner) -> None:
    campaign = campaign_create(
        workspace=workspace,
        actor=owner,
        name="  Herbst   2026 ",
        goal=Goal.LEADS,
        target_audience=" Familien in Köln \n",
        colour="#AABBCC",
        starts_on=date(2026, 9, 1),
        ends_on=date(2026, 11, 30),
    )
    campaign.refresh_from_db()
    assert campaign.name == "Herbst 2026"
    assert campaign.target_audience == "Familien in Köln"
    assert campaign.colour == "#aabbcc"
    assert campaign.created_by == owner
    assert campaign.archived is False
    assert AuditLogEntry.objects.filter(action="campaign.create", target_id=str(campaign.pk)).exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"goal": "fame"}, "goal"),
        ({"colour": "red"}, "colour"),
        ({"colour": "#12345"}, "colour"),
        ({"starts_on": date(2026, 5, 2), "ends_on": date(2026, 5, 1)}, "ends_on"),
    ],
)
def test_create_refuses_bad_input(workspace, owner, changes, field) -> None:
    values = {"name": "Frühling", "goal": Goal.REACH, **changes}
    with pytest.raises(ValidationError) as info:
        campaign_create(workspace=workspace, actor=owner, **values)
    assert set(info.value.message_dict) == {field}
    assert not Campaign.objects.exists()


def test_names_are_unique_per_workspace_ignoring_case(
    workspace, other_workspace, owner, make_campaign
) -> None:
    make_campaign("Sommer")
    with pytest.raises(ValidationError) as info:
        make_campaign("SOMMER")
    assert "already has a campaign called “SOMMER”" in info.value.message_dict["name"][0]
    make_campaign("Sommer", ws=other_workspace)  # another workspace may use the name
    assert Campaign.objects.filter(name__iexact="sommer").count() == 2


def test_update_keeps_own_name_and_checks_the_others(workspace, owner, make_campaign) -> None:
    first = make_campaign("Sommer")
    make_campaign("Winter")
    updated = campaign_update(
        workspace=workspace, campaign=first, actor=owner, name="sommer", goal=Goal.LOYALTY
    )
    assert (updated.name, updated.goal) == ("sommer", Goal.LOYALTY)
    with pytest.raises(ValidationError):
        campaign_update(workspace=workspace, campaign=first, actor=owner, name="Winter", goal=Goal.SALES)


def test_update_and_archive_refuse_another_workspaces_campaign(
    workspace, other_workspace, owner, make_campaign
):
    foreign = make_campaign("Fremd", ws=other_workspace)
    with pytest.raises(Campaign.DoesNotExist):
        campaign_update(workspace=workspace, campaign=foreign, actor=owner, name="Meins", goal=Goal.SALES)
    with pytest.raises(Campaign.DoesNotExist):
        campaign_archive(workspace=workspace, campaign=foreign, actor=owner)
    with pytest.raises(Campaign.DoesNotExist):
        campaign_get(workspace=workspace, campaign_id=foreign.pk)
    assert list(campaign_list(workspace=workspace)) == []


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.ADMIN, True),
        (Role.EDITOR, True),
        (Role.CONTRIBUTOR, False),
        (Role.ANALYST, False),
        (Role.AGENT, False),
    ],
)
def test_editors_and_above_manage_campaigns(workspace, member, make_campaign, role, allowed) -> None:
    user = member(role)
    existing = make_campaign("Bestand")
    calls = [
        lambda: campaign_create(workspace=workspace, actor=user, name="Neu", goal=Goal.SALES),
        lambda: campaign_update(
            workspace=workspace, campaign=existing, actor=user, name="Umbenannt", goal=Goal.SALES
        ),
        lambda: campaign_archive(workspace=workspace, campaign=existing, actor=user),
    ]
    for call in calls:
        if allowed:
            call()
        else:
            with pytest.raises(PermissionDenied):
                call()
    existing.refresh_from_db()
    assert existing.archived is allowed


def test_archive_and_restore(workspace, owner, make_campaign) -> None:
    campaign = make_campaign()
    assert campaign_archive(workspace=workspace, campaign=campaign, actor=owner).archived is True
    assert list(campaign_choices(workspace=workspace)) == []
    assert list(campaign_choices(workspace=workspace, keep_id=campaign.pk)) == [campaign]
    assert (
        campaign_archive(workspace=workspace, campaign=campaign, actor=owner, archived=False).archived
        is False
    )
    assert list(campaign_choices(workspace=workspace)) == [campaign]
    entries = AuditLogEntry.objects.filter(target_type="Campaign", target_id=str(campaign.pk)).order_by("pk")
    actions = list(entries.values_list("action", flat=True))
    assert actions == ["campaign.create", "campaign.archive", "campaign.restore"]


def test_list_orders_active_first_and_counts_posts(workspace, owner, channel, make_campaign) -> None:
    old = make_campaign("Alt")
    zebra = make_campaign("zebra")
    alpha = make_campaign("Alpha")
    campaign_archive(workspace=workspace, campaign=old, actor=owner)
    for _ in range(2):
        post_create(
            workspace=workspace,
            author=owner,
            data=PostInput(text="Hallo", channel_ids=[channel.pk], campaign_id=zebra.pk),
        )
    rows = [(c.name, c.post_count) for c in campaign_list(workspace=workspace)]  # type: ignore[attr-defined]
    assert rows == [("Alpha", 0), ("zebra", 2), ("Alt", 0)]
    assert [c.pk for c in campaign_list(workspace=workspace, include_archived=False)] == [alpha.pk, zebra.pk]


# -- posts and campaigns ------------------------------------------------------------------------


def test_post_gets_a_campaign_of_its_workspace_only(
    workspace, other_workspace, owner, channel, make_campaign
):
    mine = make_campaign("Meine")
    foreign = make_campaign("Fremde", ws=other_workspace)
    post = post_create(
        workspace=workspace,
        author=owner,
        data=PostInput(text="Hi", channel_ids=[channel.pk], campaign_id=mine.pk),
    )
    assert post.campaign == mine
    with pytest.raises(PostError) as info:
        post_create(
            workspace=workspace,
            author=owner,
            data=PostInput(text="Hi", channel_ids=[channel.pk], campaign_id=foreign.pk),
        )
    assert info.value.code == "unknown_campaign"
    with pytest.raises(PostError) as info:
        post_update(
            workspace=workspace,
            post=post,
            actor=owner,
            data=PostInput(text="Hi", channel_ids=[channel.pk], campaign_id=foreign.pk),
        )
    assert info.value.code == "unknown_campaign"
    post.refresh_from_db()
    assert post.campaign == mine


def test_post_update_keeps_changes_or_clears_the_campaign(workspace, owner, channel, make_campaign) -> None:
    first, second = make_campaign("Eins"), make_campaign("Zwei")
    post = post_create(
        workspace=workspace,
        author=owner,
        data=PostInput(text="Hi", channel_ids=[channel.pk], campaign_id=first.pk),
    )

    def update(campaign_id: int | Unchanged | None) -> int | None:
        data = PostInput(text="Neu", channel_ids=[channel.pk], campaign_id=campaign_id)
        post_update(workspace=workspace, post=post, actor=owner, data=data)
        post.refresh_from_db()
        return post.campaign_id

    assert update(Unchanged.CAMPAIGN) == first.pk  # callers that know nothing of campaigns keep it
    assert update(second.pk) == second.pk
    assert update(None) is None
    assert PostInput(text="", channel_ids=[]).campaign_id is Unchanged.CAMPAIGN


def test_archived_campaign_is_refused_for_new_posts_but_kept_on_edit(
    workspace, owner, channel, make_campaign
):
    campaign = make_campaign()
    post = post_create(
        workspace=workspace,
        author=owner,
        data=PostInput(text="Hi", channel_ids=[channel.pk], campaign_id=campaign.pk),
    )
    campaign_archive(workspace=workspace, campaign=campaign, actor=owner)
    with pytest.raises(PostError) as info:
        post_create(
            workspace=workspace,
            author=owner,
            data=PostInput(text="Hi", channel_ids=[channel.pk], campaign_id=campaign.pk),
        )
    assert info.value.code == "archived_campaign"
    data = PostInput(text="Geändert", channel_ids=[channel.pk], campaign_id=campaign.pk)
    post_update(workspace=workspace, post=post, actor=owner, data=data)
    post.refresh_from_db()
    assert (post.text, post.campaign_id) == ("Geändert", campaign.pk)


def test_a_contributor_may_put_a_post_into_a_campaign(workspace, member, channel, make_campaign) -> None:
    contributor = member(Role.CONTRIBUTOR)
    campaign = make_campaign()
    post = post_create(
        workspace=workspace,
        author=contributor,
        data=PostInput(text="Hi", channel_ids=[channel.pk], campaign_id=campaign.pk),
    )
    assert post.campaign_id == campaign.pk


def test_unknown_channels_message_uses_plural_forms(workspace, owner, channel) -> None:
    from django.utils import translation

    for ids, english, german in [
        ([9999], "Unknown channel: 9999", "Unbekannter Kanal: 9999"),
        ([9998, 9999], "Unknown channels: 9998, 9999", "Unbekannte Kanäle: 9998, 9999"),
    ]:
        for language, expected in (("en", english), ("de", german)):
            with translation.override(language), pytest.raises(PostError) as info:
                post_create(workspace=workspace, author=owner, data=PostInput(text="x", channel_ids=ids))
            assert info.value.message == expected


def test_deleting_a_campaign_keeps_its_posts(workspace, owner, channel, make_campaign) -> None:
    campaign = make_campaign()
    post = post_create(
        workspace=workspace,
        author=owner,
        data=PostInput(text="Hi", channel_ids=[channel.pk], campaign_id=campaign.pk),
    )
    campaign.delete()
    post.refresh_from_db()
    assert post.campaign_id is None
