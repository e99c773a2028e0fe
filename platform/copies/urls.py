"""Certified copies at the desk, under /mot-cua/chung-thuc/."""

from django.urls import path

from copies import views

urlpatterns = [
    path("", views.copies_page, name="copies-page"),
    path("<int:copy_id>/tep/", views.copy_file, name="copies-file"),
    path(
        "ho-so/<str:code>/tai-lieu/<int:document_id>/",
        views.certify_document,
        name="copies-certify-document",
    ),
]
