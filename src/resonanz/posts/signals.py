"""Domain events of posts: what other apps must learn from posts without posts importing them.

posts sits below approvals and publishing (the import contract in pyproject.toml): it announces, they
react. Receivers live in the reacting app (``<app>/receivers.py``) and are connected in its
``AppConfig.ready``. Signals are sent synchronously inside the sender's transaction, so a receiver
that causes side effects outside the database defers them with ``transaction.on_commit``.
"""

from __future__ import annotations

from django.dispatch import Signal

#: A variant was armed (scheduled) at ``run_after``; sent with ``variant_id``, ``schedule_version`` and
#: ``run_after`` (a UTC datetime, or None for "now"). publishing arranges a wake-up after commit.
variant_armed = Signal()

#: A post in review was edited, which restarts its approval chain at step 1; sent with ``workspace``,
#: ``post`` and ``actor``. approvals tells the step-1 approvers.
post_review_restarted = Signal()
