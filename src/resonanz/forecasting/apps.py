from django.apps import AppConfig


class ForecastingConfig(AppConfig):
    name = "resonanz.forecasting"
    label = "forecasting"
