"""Domain events of the accounts app, for the apps above it (accounts imports none of them).

``workspace_archiving`` is sent inside ``services.workspace_archive``'s transaction, after the workspace
row is locked and before it is archived. A receiver returns ``None`` to agree, or a message in the user's
language that says why the workspace cannot be archived yet (posts still scheduled, say): the archive is
then refused with every message given.
"""

from django.dispatch import Signal

workspace_archiving = Signal()  # sender=Workspace, workspace=Workspace

# Sent inside ``services.membership_remove``'s transaction, before the membership is deleted: the apps
# above take away what the member had there (channels: their personal channels are disconnected).
membership_removing = Signal()  # sender=Membership, workspace=Workspace, user=User
