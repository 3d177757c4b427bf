from django.urls import path

from tillit.api.main import api

urlpatterns = [path("", api.urls)]
