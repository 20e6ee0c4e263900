"""``/chatkit`` (with or without a trailing slash), included from the project URLs."""

from django.urls import path

from .views import chatkit_endpoint

urlpatterns = [
    path("", chatkit_endpoint, name="chatkit"),
    path("/", chatkit_endpoint, name="chatkit-slash"),
]
