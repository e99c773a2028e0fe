"""The agency's trail, included under /quan-tri/nhat-ky/ on the agency's host."""

from django.urls import path

from audit import views

urlpatterns = [
    path("", views.agency_trail, name="audit-agency"),
    path("xuat.csv", views.agency_trail_export, name="audit-agency-export"),
]
