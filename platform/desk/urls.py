"""The one-stop desk's pages, under /mot-cua/ on an agency's host."""

from django.urls import include, path

from desk import assignment_views, intake_views, views

urlpatterns = [
    path("", views.worklist, name="desk-worklist"),
    path("ho-so/<str:code>/", views.dossier_detail, name="desk-dossier"),
    path(
        "ho-so/<str:code>/tai-lieu/<int:document_id>/",
        views.dossier_document,
        name="desk-document",
    ),
    path("ho-so/<str:code>/<str:action>/", views.dossier_action, name="desk-action"),
    path("tiep-nhan/", intake_views.intake_start, name="desk-intake-start"),
    path("tiep-nhan/<str:code>/", intake_views.intake, name="desk-intake"),
    path("tiep-nhan/<str:code>/tu-choi/", intake_views.intake_refuse, name="desk-intake-refuse"),
    path("phan-cong/<str:code>/", assignment_views.step_assignments, name="desk-assignments"),
    path("", include("register.urls")),
]
