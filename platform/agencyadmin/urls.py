"""The agency admin's pages, under /quan-tri/ on the agency's host."""

from django.urls import path

from agencyadmin import views

urlpatterns = [
    path("", views.dashboard, name="agencyadmin-dashboard"),
    path("thu-tuc/", views.procedure_list, name="agencyadmin-procedures"),
    path("thu-tuc/them/", views.procedure_adopt, name="agencyadmin-adopt"),
    path("thu-tuc/<str:code>/", views.procedure_configure, name="agencyadmin-procedure"),
    path("thu-tuc/<str:code>/cong-bo/", views.procedure_publish, name="agencyadmin-publish"),
    path(
        "thu-tuc/<str:code>/ngung-cong-bo/",
        views.procedure_unpublish,
        name="agencyadmin-unpublish",
    ),
    path(
        "thu-tuc/<str:code>/cap-nhat/",
        views.procedure_catalog_update,
        name="agencyadmin-catalog-update",
    ),
    path("giao-dien/", views.branding, name="agencyadmin-branding"),
    path("thu-phi/", views.fee_settings_page, name="agencyadmin-fees"),
    path("thu-phi/doi-soat/", views.fee_reconciliation, name="agencyadmin-fee-reconciliation"),
    path(
        "thu-phi/doi-soat/<int:line_id>/bo-qua/",
        views.fee_line_dismiss,
        name="agencyadmin-fee-line-dismiss",
    ),
    path("lich-lam-viec/", views.calendar, name="agencyadmin-calendar"),
    path("lich-lam-viec/xoa/", views.calendar_remove, name="agencyadmin-calendar-remove"),
    path("ma-ho-so/", views.dossier_code, name="agencyadmin-dossier-code"),
    path(
        "ma-ho-so/xem-truoc/", views.dossier_code_preview, name="agencyadmin-dossier-code-preview"
    ),
]
