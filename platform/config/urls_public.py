"""URLs of the public schema: landing page, provider console, accounts, health."""

from django.contrib import admin
from django.urls import include, path

from accounts.provider_staff import admin_login
from billing import views as billing_views
from console import trail_views
from console import views as console_views
from nationalsync.views import console_reconciliation
from ops import devinbox_views, language
from ops import views as ops_views
from reorg import views as reorg_views
from reports import views as reports

# The admin's own login form would check passwords outside allauth's limits on failed
# sign-ins: send it to the staff's sign-in page (allauth's, in the console's clothes) instead.
admin.site.login = admin_login  # type: ignore[method-assign]

urlpatterns = [
    path("", console_views.landing, name="landing"),
    path("console/", console_views.home, name="console-home"),
    path("console/dang-nhap/", console_views.staff_login, name="console-login"),
    path("console/agencies/", console_views.agency_list, name="console-agencies"),
    path("console/reorg/", reorg_views.console_merges, name="console-merges"),
    path("console/reorg/<int:pk>/", reorg_views.console_merge, name="console-merge"),
    path(
        "console/reorg/<int:pk>/progress/",
        reorg_views.console_merge_progress,
        name="console-merge-progress",
    ),
    path("console/reorg/tach/", reorg_views.console_splits, name="console-splits"),
    path("console/reorg/tach/<int:pk>/", reorg_views.console_split, name="console-split"),
    path(
        "console/reorg/tach/<int:pk>/progress/",
        reorg_views.console_split_progress,
        name="console-split-progress",
    ),
    path("console/billing/", billing_views.console_billing, name="console-billing"),
    path(
        "console/billing/invoices/<int:pk>/", billing_views.console_invoice, name="console-invoice"
    ),
    path(
        "console/billing/invoices/<int:pk>/payment/",
        billing_views.console_invoice_payment,
        name="console-invoice-payment",
    ),
    path(
        "console/billing/invoices/<int:pk>/adjust/",
        billing_views.console_invoice_adjust,
        name="console-invoice-adjust",
    ),
    path(
        "console/billing/invoices/<int:pk>/replace/",
        billing_views.console_invoice_replace,
        name="console-invoice-replace",
    ),
    path(
        "console/billing/invoices/<int:pk>/einvoice/retry/",
        billing_views.console_invoice_einvoice_retry,
        name="console-invoice-einvoice-retry",
    ),
    path(
        "console/billing/invoices/<int:pk>/pdf/",
        billing_views.console_invoice_pdf,
        name="console-invoice-pdf",
    ),
    path(
        "console/billing/invoices/<int:pk>/xml/",
        billing_views.console_invoice_xml,
        name="console-invoice-xml",
    ),
    path("console/billing/sao-ke/", billing_views.console_statements, name="console-statements"),
    path(
        "console/billing/sao-ke/<int:pk>/",
        billing_views.console_statement_line_resolve,
        name="console-statement-line",
    ),
    path(
        "console/billing/overpayments/<int:pk>/resolve/",
        billing_views.console_overpayment_resolve,
        name="console-overpayment-resolve",
    ),
    path(
        "console/billing/meter-events/requeue/",
        billing_views.console_meter_events_requeue,
        name="console-meter-events-requeue",
    ),
    path("console/dong-bo/", console_reconciliation, name="nationalsync-console"),
    path("console/nhat-ky/", trail_views.trail, name="audit-provider"),
    path("console/nhat-ky/xuat.csv", trail_views.trail_export, name="audit-provider-export"),
    path("console/thong-ke/", reports.console_dashboard, name="reports-console"),
    path("console/thong-ke/tinh/<str:code>/", reports.console_province, name="reports-province"),
    path(
        "console/thong-ke/co-quan/<slug:slug>/",
        reports.console_agency,
        name="reports-console-agency",
    ),
    path("minh-bach/<str:code>/", reports.province_transparency, name="reports-province-public"),
    path("", include("onboarding.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("ngon-ngu/<str:code>/", language.choose_language, name="choose-language"),
    path("billing/stripe/webhook/", billing_views.stripe_webhook, name="stripe-webhook"),
    path("billing/bank/webhook/", billing_views.bank_webhook, name="bank-webhook"),
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
