from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "tillit.api"
    label = "api"
    verbose_name = "API"
