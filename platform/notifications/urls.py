"""Notification templates of the agency, under /quan-tri/thong-bao/."""

from django.urls import path

from notifications import views

urlpatterns = [
    path("", views.template_list, name="notifications-templates"),
    path("<str:key>/<str:channel>/", views.template_edit, name="notifications-template"),
]
