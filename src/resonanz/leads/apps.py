from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "resonanz.leads"
    label = "leads"
