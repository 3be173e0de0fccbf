from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "resonanz.approvals"
    label = "approvals"
