from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "resonanz.reports"
    label = "reports"
