"""Included by allauth under /accounts/ (it includes every provider's ``urls`` module)."""

from django.urls import path

from vneid import views

urlpatterns = [
    path("vneid/login/", views.login, name="vneid_login"),
    path("vneid/callback/", views.callback, name="vneid_callback"),
]
