from django.apps import AppConfig


class OverviewConfig(AppConfig):
    """The pages that look across apps: a workspace's dashboard and an agency's view of all its clients."""

    name = "resonanz.overview"
    label = "overview"
