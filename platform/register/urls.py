"""The register and the printouts, included under /mot-cua/ by desk.urls."""

from django.urls import path

from register import views

urlpatterns = [
    path("so-theo-doi/", views.register, name="register"),
    path("so-theo-doi/xuat-excel/", views.register_export, name="register-export"),
    path("so-theo-doi/xuat-pdf/", views.register_pdf_export, name="register-export-pdf"),
    path("in/<str:code>/mau-<str:form>.pdf", views.form_pdf, name="register-form-pdf"),
    path("in/<str:code>/ket-qua-<int:result_id>.pdf", views.result_pdf, name="register-result-pdf"),
    path("in/tu-choi/<int:refusal_id>/", views.refusal_printout, name="register-refusal-print"),
    path("in/<str:code>/<str:form>/", views.printout, name="register-print"),
]
