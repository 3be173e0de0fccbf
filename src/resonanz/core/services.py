from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .models import AuditLogEntry

if TYPE_CHECKING:
    from resonanz.accounts.models import User, Workspace


def audit_log_record(
    *,
    workspace: Workspace | None,
    actor: User | None,
    action: str,
    target: Any = None,
    data: dict[str, Any] | None = None,
) -> AuditLogEntry:
    return AuditLogEntry.objects.create(
        workspace=workspace,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target_type=type(target).__name__ if target is not None else "",
        target_id=str(getattr(target, "pk", "") or ""),
        data=data or {},
    )
