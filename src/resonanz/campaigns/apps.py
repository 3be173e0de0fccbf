from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "resonanz.campaigns"
    label = "campaigns"
