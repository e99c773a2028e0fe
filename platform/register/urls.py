"""The register and the printouts, included under /mot-cua/ by desk.urls."""

from django.urls import path

from register import views

urlpatterns = [
    path("so-theo-doi/", views.register, name="register"),
    path("so-theo-doi/xuat-excel/", views.register_export, name="register-export"),
    path("in/tu-choi/<int:refusal_id>/", views.refusal_printout, name="register-refusal-print"),
    path("in/<str:code>/<str:form>/", views.printout, name="register-print"),
]
