"""The one-stop desk's pages, under /mot-cua/ on an agency's host."""

from django.urls import include, path

from desk import views

urlpatterns = [
    path("", views.worklist, name="desk-worklist"),
    path("ho-so/<str:code>/", views.dossier_detail, name="desk-dossier"),
    path("ho-so/<str:code>/<str:action>/", views.dossier_action, name="desk-action"),
    path("", include("register.urls")),
]
