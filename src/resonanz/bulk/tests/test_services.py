"""Import services: the check runs the real services and rolls back; the import is all-or-nothing per row."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.exceptions import PermissionDenied

from resonanz.accounts.models import ApprovalMode, Role
from resonanz.bulk import services
from resonanz.bulk.importer import ImportFileError
from resonanz.bulk.models import ImportBatch, ImportMode, ImportRow, ImportRowStatus, ImportStatus
from resonanz.bulk.services import BulkError, import_batch_create, import_batch_discard, import_batch_run
from resonanz.campaigns.services import campaign_archive, campaign_create
from resonanz.core.models import AuditLogEntry
from resonanz.posts.models import Post, PostEvent, PostStatus, Variant, VariantPart, VariantStatus
from resonanz.posts.services import PostError

from .conftest import FUTURE, make_csv


def upload(workspace, actor, data: bytes, **kwargs) -> ImportBatch:
    return import_batch_create(workspace=workspace, actor=actor, filename="plan.csv", data=data, **kwargs)


def rows_by_number(batch: ImportBatch) -> dict[int, ImportRow]:
    return {r.number: r for r in batch.rows.all()}


def test_check_reports_every_row_and_creates_nothing(
    workspace, owner, mastodon, bluesky, django_capture_on_commit_callbacks
) -> None:
    data = make_csv(
        [
            [FUTURE, "09:00", "brand@social.example|brand.bsky.social", "Hallo zusammen"],
            [FUTURE, "10:00", "brand@social.example", "x" * 501],
            [FUTURE, "11:00", "brand.bsky.social", "y" * 312],
            [FUTURE, "12:00", "gibt-es-nicht", "Hallo"],
        ]
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        batch = upload(workspace, owner, data)
    assert callbacks == []  # nothing was armed for publishing
    assert not Post.objects.exists()
    assert not PostEvent.objects.exists()
    assert not AuditLogEntry.objects.filter(action="post.create").exists()
    assert (batch.status, batch.mode, batch.row_count, batch.valid_count) == ("preview", "schedule", 4, 1)
    rows = rows_by_number(batch)
    assert rows[2].status == ImportRowStatus.VALID
    assert rows[3].issues == [
        {
            "column": "text",
            "message": "Mastodon (brand@social.example): Part 1 has 501 characters; "
            "this Mastodon server allows 500.",
        }
    ]
    assert rows[4].issues == [
        {
            "column": "text",
            "message": "Bluesky (brand.bsky.social): Part 1 has 312 characters; Bluesky allows 300.",
        }
    ]
    assert rows[5].issues == [
        {"column": "channels", "message": "There is no channel “gibt-es-nicht” in this workspace."}
    ]


def test_network_rules_for_thread_parts_and_content_warning(workspace, owner, bluesky) -> None:
    header = ["date", "time", "channels", "text", "thread", "content_warning"]
    data = make_csv(
        [[FUTURE, "09:00", "brand.bsky.social", "Eins", "Zwei\n---\n" + "z" * 301, "Spoiler"]],
        header=header,
    )
    [row] = upload(workspace, owner, data).rows.all()
    columns = {i["column"] for i in row.issues}
    assert columns == {"thread", "content_warning"}


def test_import_schedules_valid_rows_and_skips_refused(
    workspace, owner, mastodon, django_capture_on_commit_callbacks
) -> None:
    data = make_csv(
        [
            [FUTURE, "09:00", "brand@social.example", "Erster"],
            [FUTURE, "10:00", "brand@social.example", "x" * 501],
            ["02.12.2099", "08:15", str(mastodon.pk), "Dritter"],
        ]
    )
    batch = upload(workspace, owner, data)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        batch = import_batch_run(workspace=workspace, actor=owner, batch=batch)
    assert (batch.status, batch.imported_count, batch.failed_count) == (ImportStatus.DONE, 2, 0)
    assert len(callbacks) == 2  # one publish task per scheduled variant, after commit
    posts = {p.text: p for p in Post.objects.filter(workspace=workspace)}
    assert set(posts) == {"Erster", "Dritter"}
    assert posts["Erster"].status == PostStatus.SCHEDULED
    variant = Variant.objects.get(post=posts["Dritter"])
    assert variant.status == VariantStatus.SCHEDULED
    assert variant.scheduled_at == datetime(2099, 12, 2, 7, 15, tzinfo=UTC)
    rows = rows_by_number(batch)
    assert rows[2].post == posts["Erster"]
    assert rows[3].status == ImportRowStatus.REFUSED
    assert rows[3].post is None


def test_a_refused_row_creates_nothing_at_all(workspace, owner, mastodon) -> None:
    batch = upload(workspace, owner, make_csv([[FUTURE, "10:00", "brand@social.example", "x" * 501]]))
    assert batch.valid_count == 0
    batch = import_batch_run(workspace=workspace, actor=owner, batch=batch)
    assert (batch.imported_count, batch.failed_count) == (0, 0)
    assert Post.objects.count() == Variant.objects.count() == VariantPart.objects.count() == 0
    assert not PostEvent.objects.exists()


@pytest.mark.parametrize(
    "failure", [PostError("Die Plattform ist heute gesperrt.", code="x"), RuntimeError("boom")]
)
def test_a_row_failing_in_the_middle_is_absent_and_the_others_stay(
    workspace, owner, mastodon, monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    batch = upload(
        workspace,
        owner,
        make_csv(
            [
                [FUTURE, "09:00", "brand@social.example", "Eins"],
                [FUTURE, "10:00", "brand@social.example", "Zwei"],
                [FUTURE, "11:00", "brand@social.example", "Drei"],
            ]
        ),
    )
    real_schedule = services.post_schedule  # type: ignore[attr-defined]

    def schedule_or_fail(*, workspace, post, actor, at):
        if post.text == "Zwei":  # the post and its variant exist at this point, inside the row's transaction
            assert Variant.objects.filter(post=post).exists()
            raise failure
        return real_schedule(workspace=workspace, post=post, actor=actor, at=at)

    monkeypatch.setattr(services, "post_schedule", schedule_or_fail)
    batch = import_batch_run(workspace=workspace, actor=owner, batch=batch)
    assert sorted(Post.objects.values_list("text", flat=True)) == ["Drei", "Eins"]
    assert Variant.objects.count() == 2
    assert VariantPart.objects.count() == 2
    assert set(Variant.objects.values_list("status", flat=True)) == {VariantStatus.SCHEDULED}
    rows = rows_by_number(batch)
    assert rows[3].status == ImportRowStatus.FAILED
    assert rows[3].post is None
    expected = "Die Plattform ist heute gesperrt." if isinstance(failure, PostError) else "unexpected error"
    assert expected in rows[3].issues[0]["message"]
    assert (batch.imported_count, batch.failed_count) == (2, 1)


def test_rows_are_checked_again_at_import(workspace, owner, mastodon) -> None:
    batch = upload(workspace, owner, make_csv([[FUTURE, "09:00", "brand@social.example", "Hallo"]]))
    mastodon.delete()  # disconnected between the check and the confirmation
    batch = import_batch_run(workspace=workspace, actor=owner, batch=batch)
    [row] = batch.rows.all()
    assert row.status == ImportRowStatus.FAILED
    assert row.issues[0]["column"] == "channels"
    assert not Post.objects.exists()


def test_rows_go_into_the_named_campaign(workspace, owner, mastodon, other_workspace) -> None:
    herbst = campaign_create(workspace=workspace, actor=owner, name="Herbst", goal="awareness")
    # The same name in another workspace is not this workspace's campaign.
    campaign_create(workspace=other_workspace, actor=None, name="Fremd", goal="awareness")
    header = ["Datum", "Uhrzeit", "Kanäle", "Text", "Kampagne"]
    data = make_csv(
        [
            [FUTURE, "09:00", "brand@social.example", "Im Herbst", "HERBST"],
            [FUTURE, "10:00", "brand@social.example", "Ohne", ""],
            [FUTURE, "11:00", "brand@social.example", "Fremde Kampagne", "Fremd"],
        ],
        header=header,
    )
    batch = upload(workspace, owner, data)
    rows = rows_by_number(batch)
    assert (rows[2].status, rows[2].data["campaign_id"]) == (ImportRowStatus.VALID, herbst.pk)
    assert rows[3].status == ImportRowStatus.VALID
    assert rows[4].status == ImportRowStatus.REFUSED
    assert rows[4].issues == [
        {
            "column": "campaign",
            "message": "There is no campaign “Fremd” in this workspace. Check the spelling, create the "
            "campaign under “Campaigns” first, or leave the cell empty.",
        }
    ]
    batch = import_batch_run(workspace=workspace, actor=owner, batch=batch)
    assert (batch.imported_count, batch.failed_count) == (2, 0)
    assert dict(Post.objects.values_list("text", "campaign_id")) == {"Im Herbst": herbst.pk, "Ohne": None}


def test_a_campaign_archived_after_the_check_refuses_the_row_at_import(workspace, owner, mastodon) -> None:
    herbst = campaign_create(workspace=workspace, actor=owner, name="Herbst", goal="awareness")
    data = make_csv(
        [[FUTURE, "09:00", "brand@social.example", "Im Herbst", "Herbst"]],
        header=["Datum", "Uhrzeit", "Kanäle", "Text", "Kampagne"],
    )
    batch = upload(workspace, owner, data)
    assert batch.valid_count == 1
    campaign_archive(workspace=workspace, campaign=herbst, actor=owner)
    batch = import_batch_run(workspace=workspace, actor=owner, batch=batch)
    [row] = batch.rows.all()
    assert row.status == ImportRowStatus.FAILED
    assert row.issues == [
        {"column": "campaign", "message": "This campaign is archived; choose an active one."}
    ]
    assert not Post.objects.exists()


def test_same_file_within_24_hours_needs_confirmation(workspace, owner, mastodon) -> None:
    data = make_csv([[FUTURE, "09:00", "brand@social.example", "Hallo"]])
    import_batch_run(workspace=workspace, actor=owner, batch=upload(workspace, owner, data))
    again = upload(workspace, owner, data)
    with pytest.raises(BulkError) as exc:
        import_batch_run(workspace=workspace, actor=owner, batch=again)
    assert exc.value.code == "duplicate"
    assert Post.objects.count() == 1
    assert ImportBatch.objects.get(pk=again.pk).status == ImportStatus.PREVIEW  # still importable
    import_batch_run(workspace=workspace, actor=owner, batch=again, confirm_duplicate=True)
    assert Post.objects.count() == 2
    # A different file is no duplicate.
    other = upload(workspace, owner, make_csv([[FUTURE, "09:05", "brand@social.example", "Hallo"]]))
    import_batch_run(workspace=workspace, actor=owner, batch=other)
    assert Post.objects.count() == 3


def test_a_batch_is_imported_once(workspace, owner, mastodon) -> None:
    batch = upload(workspace, owner, make_csv([[FUTURE, "09:00", "brand@social.example", "Hallo"]]))
    import_batch_run(workspace=workspace, actor=owner, batch=batch)
    with pytest.raises(BulkError) as exc:
        import_batch_run(workspace=workspace, actor=owner, batch=batch, confirm_duplicate=True)
    assert exc.value.code == "invalid_state"
    assert Post.objects.count() == 1


def test_contributor_imports_drafts_with_the_wanted_time(
    workspace, member, mastodon, django_capture_on_commit_callbacks
) -> None:
    contributor = member(Role.CONTRIBUTOR)
    batch = upload(workspace, contributor, make_csv([[FUTURE, "09:00", "brand@social.example", "Entwurf"]]))
    assert batch.mode == ImportMode.DRAFT
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        import_batch_run(workspace=workspace, actor=contributor, batch=batch)
    assert callbacks == []
    post = Post.objects.get()
    assert post.status == PostStatus.DRAFT
    assert post.scheduled_at == datetime(2099, 12, 1, 8, 0, tzinfo=UTC)  # kept for whoever schedules it
    assert post.variants.get().status == VariantStatus.DRAFT


@pytest.mark.parametrize("role", [Role.CONTRIBUTOR, Role.EDITOR])
def test_with_approval_rows_are_submitted(workspace, member, mastodon, role: str) -> None:
    workspace.approval_mode = ApprovalMode.ONE_STEP
    workspace.save()
    user = member(role)
    batch = upload(workspace, user, make_csv([[FUTURE, "09:00", "brand@social.example", "Bitte prüfen"]]))
    assert batch.mode == ImportMode.SUBMIT
    import_batch_run(workspace=workspace, actor=user, batch=batch)
    post = Post.objects.get()
    assert post.status == PostStatus.IN_REVIEW
    assert post.events.filter(kind="submitted").exists()
    assert post.variants.get().status == VariantStatus.DRAFT


def test_as_drafts_option_for_editors(workspace, owner, mastodon) -> None:
    batch = upload(
        workspace, owner, make_csv([[FUTURE, "09:00", "brand@social.example", "Nur Entwurf"]]), as_drafts=True
    )
    assert batch.mode == ImportMode.DRAFT
    import_batch_run(workspace=workspace, actor=owner, batch=batch)
    assert Post.objects.get().status == PostStatus.DRAFT


def test_analyst_and_strangers_may_not_import(workspace, member, other_workspace, mastodon) -> None:
    data = make_csv([[FUTURE, "09:00", "brand@social.example", "Hallo"]])
    with pytest.raises(PermissionDenied):
        upload(workspace, member(Role.ANALYST), data)
    stranger = other_workspace.memberships.get().user
    with pytest.raises(PermissionDenied):
        upload(workspace, stranger, data)


def test_only_the_uploader_confirms_or_discards(workspace, owner, member, mastodon) -> None:
    batch = upload(workspace, owner, make_csv([[FUTURE, "09:00", "brand@social.example", "Hallo"]]))
    editor = member(Role.EDITOR)
    with pytest.raises(BulkError):
        import_batch_run(workspace=workspace, actor=editor, batch=batch)
    with pytest.raises(BulkError):
        import_batch_discard(workspace=workspace, actor=editor, batch=batch)
    import_batch_discard(workspace=workspace, actor=owner, batch=batch)
    batch.refresh_from_db()
    assert batch.status == ImportStatus.DISCARDED
    assert not batch.rows.exists()  # the post texts of a discarded file are not kept
    assert not Post.objects.exists()


def test_channels_of_another_workspace_are_unknown(workspace, owner, other_workspace, make_channel) -> None:
    foreign = make_channel("mastodon", handle="theirs@social.example", ws=other_workspace)
    batch = upload(
        workspace,
        owner,
        make_csv(
            [[FUTURE, "09:00", str(foreign.pk), "Hallo"], [FUTURE, "09:00", "theirs@social.example", "Hallo"]]
        ),
    )
    assert batch.valid_count == 0
    assert all(r.issues[0]["column"] == "channels" for r in batch.rows.all())


def test_unreadable_file_creates_no_batch(workspace, owner) -> None:
    with pytest.raises(ImportFileError):
        upload(workspace, owner, b"just some text without columns\n")
    assert not ImportBatch.objects.exists()


def test_large_files_are_checked_and_imported_by_the_worker(
    workspace, owner, mastodon, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:
    from django_tasks_db.models import DBTaskResult

    from resonanz.bulk import tasks

    monkeypatch.setattr(services, "INLINE_ROWS", 1)
    data = make_csv(
        [
            [FUTURE, "09:00", "brand@social.example", "Eins"],
            [FUTURE, "10:00", "brand@social.example", "x" * 501],
            [FUTURE, "11:00", "brand@social.example", "Drei"],
        ]
    )
    with django_capture_on_commit_callbacks(execute=True):
        batch = upload(workspace, owner, data)
    assert batch.status == ImportStatus.CHECKING
    assert set(batch.rows.values_list("status", flat=True)) == {ImportRowStatus.PENDING}
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "resonanz.bulk.tasks.check_import"
    assert queued.args_kwargs["kwargs"] == {"batch_id": batch.pk}

    assert tasks.check_import.call(batch_id=batch.pk) == ImportStatus.PREVIEW
    batch.refresh_from_db()
    assert batch.valid_count == 2
    assert not Post.objects.exists()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        batch = import_batch_run(workspace=workspace, actor=owner, batch=batch)
    assert batch.status == ImportStatus.IMPORTING
    assert len(callbacks) == 1  # the import task; nothing imported in the request
    assert not Post.objects.exists()
    assert tasks.run_import.call(batch_id=batch.pk) == ImportStatus.DONE
    assert tasks.run_import.call(batch_id=batch.pk) == ImportStatus.DONE  # delivered twice: harmless
    assert sorted(Post.objects.values_list("text", flat=True)) == ["Drei", "Eins"]


def test_a_stalled_import_resumes_without_doubling_rows(
    workspace, owner, mastodon, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from resonanz.bulk import tasks
    from resonanz.bulk.services import import_batch_resume, import_batch_stalled

    monkeypatch.setattr(services, "INLINE_ROWS", 1)
    rows = [[FUTURE, f"{9 + i:02d}:00", "brand@social.example", f"Post {i}"] for i in range(3)]
    batch = upload(workspace, owner, make_csv(rows))
    tasks.check_import.call(batch_id=batch.pk)
    batch.refresh_from_db()
    import_batch_run(workspace=workspace, actor=owner, batch=batch)
    real, calls = services._import_row, []

    def dies_on_the_second_row(**kwargs):
        calls.append(kwargs["data"]["text"])
        if len(calls) == 2:
            raise SystemExit  # the worker process dies in the middle of the import
        return real(**kwargs)

    monkeypatch.setattr(services, "_import_row", dies_on_the_second_row)
    with pytest.raises(SystemExit):
        tasks.run_import.call(batch_id=batch.pk)
    monkeypatch.setattr(services, "_import_row", real)
    assert list(Post.objects.values_list("text", flat=True)) == ["Post 0"]

    with pytest.raises(BulkError):  # not stalled yet: someone is (apparently) working on it
        import_batch_resume(workspace=workspace, actor=owner, batch=batch)
    ImportBatch.objects.filter(pk=batch.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    batch.refresh_from_db()
    assert import_batch_stalled(batch=batch)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        import_batch_resume(workspace=workspace, actor=owner, batch=batch)
    assert len(callbacks) == 1
    tasks.run_import.call(batch_id=batch.pk)
    assert sorted(Post.objects.values_list("text", flat=True)) == ["Post 0", "Post 1", "Post 2"]
    batch.refresh_from_db()
    assert (batch.status, batch.imported_count) == (ImportStatus.DONE, 3)
