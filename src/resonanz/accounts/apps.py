from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "resonanz.accounts"
    label = "accounts"
