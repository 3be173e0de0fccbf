from django.apps import AppConfig


class CalendarConfig(AppConfig):
    name = "resonanz.calendar"
    label = "calendar"
