"""URLs served on an agency's hostname (its schema is active): portal, accounts, health.

Citizen-facing paths are Vietnamese, as people type and share them.
"""

from django.urls import include, path

from agencyadmin import trail_views as agencyadmin_trail
from api import views as api_views
from api.v1 import api as api_v1
from billing import views as billing_views
from ops import devinbox_views, language
from ops import views as ops_views
from portal import fee_views
from portal import views as portal
from reports import views as reports
from reports.scorecard_views import agency_scorecard_page
from results import views as results
from verification import views as verification

urlpatterns = [
    path("", portal.home, name="portal-home"),
    path("thu-tuc/", portal.procedure_list, name="portal-procedures"),
    path("thu-tuc/<str:code>/", portal.procedure_detail, name="portal-procedure"),
    path("thu-tuc/<str:code>/nop/", portal.submission_start, name="portal-submission-start"),
    path("nop-ho-so/<uuid:draft_id>/", portal.submission_edit, name="portal-submission-edit"),
    path(
        "nop-ho-so/<uuid:draft_id>/xem-lai/",
        portal.submission_review,
        name="portal-submission-review",
    ),
    path(
        "nop-ho-so/<uuid:draft_id>/xoa/",
        portal.submission_discard,
        name="portal-submission-discard",
    ),
    path("ho-so/<str:code>/bien-nhan/", portal.receipt, name="portal-receipt"),
    path("ho-so/<str:code>/bien-nhan.pdf", portal.receipt_pdf, name="portal-receipt-pdf"),
    path("tra-cuu/", portal.tracking, name="portal-tracking"),
    path("xac-thuc/", verification.verify, name="verification-verify"),
    path(
        "xac-thuc/<str:reference>/",
        verification.verify_reference,
        name="verification-reference",
    ),
    path("ho-so-cua-toi/", portal.my_dossiers, name="portal-my-dossiers"),
    path("ho-so-cua-toi/<str:code>/", portal.my_dossier_detail, name="portal-my-dossier"),
    path("ho-so-cua-toi/<str:code>/nop-phi/", fee_views.fee_pay, name="portal-fee-pay"),
    path(
        "ho-so-cua-toi/<str:code>/nop-phi/kiem-tra/",
        fee_views.fee_check,
        name="portal-fee-check",
    ),
    path(
        "thanh-toan-phi/dvcqg/tra-ve/",
        fee_views.fee_national_return,
        name="portal-fee-national-return",
    ),
    path("thanh-toan-phi/dvcqg/ipn/", fee_views.fee_national_ipn, name="portal-fee-national-ipn"),
    path(
        "ho-so-cua-toi/<str:code>/bo-sung/",
        portal.my_dossier_supplement,
        name="portal-my-dossier-supplement",
    ),
    path(
        "ho-so-cua-toi/<str:code>/ket-qua/<int:result_id>/",
        results.download,
        name="results-download",
    ),
    path("ho-so-cua-toi/<str:code>/danh-gia/", results.rate, name="results-rate"),
    path("ho-so-cua-toi/<str:code>/rut-ho-so/", results.withdraw, name="results-withdraw"),
    path("kho-du-lieu/", results.document_store, name="results-document-store"),
    path("kho-du-lieu/<int:document_id>/", results.stored_document, name="results-stored-document"),
    path("tai-khoan/", portal.profile, name="portal-profile"),
    path("mot-cua/lien-thong/", include("exchange.urls")),
    path("mot-cua/chung-thuc/", include("copies.urls")),
    path("mot-cua/", include("desk.urls")),
    path("logo.png", portal.logo, name="portal-logo"),
    path("giao-dien.css", portal.branding_css, name="portal-branding-css"),
    path("quan-tri/thanh-toan/", billing_views.agency_billing, name="agency-billing"),
    path(
        "quan-tri/thanh-toan/hoa-don/<int:pk>/",
        billing_views.agency_invoice,
        name="agency-invoice",
    ),
    path(
        "quan-tri/thanh-toan/hoa-don/<int:pk>/pdf/",
        billing_views.agency_invoice_pdf,
        name="agency-invoice-pdf",
    ),
    path("api/v1/", api_v1.urls),
    path("quan-tri/khoa-api/", api_views.api_keys, name="api-keys"),
    path(
        "quan-tri/khoa-api/<int:key_id>/thu-hoi/",
        api_views.api_key_revoke_view,
        name="api-key-revoke",
    ),
    path("quan-tri/thong-ke/", reports.agency_dashboard, name="reports-agency"),
    path("quan-tri/thong-ke/diem/", agency_scorecard_page, name="reports-scorecard"),
    path("quan-tri/thong-ke/xuat.csv", reports.agency_export, name="reports-agency-export"),
    path("minh-bach/", reports.agency_transparency, name="reports-transparency"),
    path("quan-tri/thong-bao/", include("notifications.urls")),
    path("quan-tri/nhan-su/", include("accounts.staff_urls")),
    path("quan-tri/nhat-ky/", agencyadmin_trail.trail, name="audit-agency"),
    path("quan-tri/nhat-ky/xuat.csv", agencyadmin_trail.trail_export, name="audit-agency-export"),
    path("quan-tri/", include("agencyadmin.urls")),
    path("accounts/", include("allauth.urls")),
    path("ngon-ngu/<str:code>/", language.choose_language, name="choose-language"),
    path("health/", ops_views.health, name="health"),
    # Development only (404 unless ops.devinbox is on): the mail and SMS sent, per agency.
    path("dev/hop-thu/", devinbox_views.inbox, name="dev-inbox"),
    path(
        "dev/hop-thu/<str:schema>/<str:message_id>/",
        devinbox_views.inbox_detail,
        name="dev-inbox-message",
    ),
    path("ping/", ops_views.ping, name="ping"),
    path("favicon.ico", ops_views.favicon),
]

# A database that cannot be reached answers 503 with Retry-After, not 500 (ops.errors).
handler500 = "ops.errors.server_error"
