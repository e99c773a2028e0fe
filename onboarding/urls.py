"""Onboarding URLs on the public host: the application form and the console pages."""

from django.urls import path

from onboarding import agency_views, views

urlpatterns = [
    path("dang-ky/", views.apply, name="onboarding-apply"),
    path("console/onboarding/", views.console_applications, name="console-applications"),
    path("console/onboarding/new/", views.console_application_new, name="console-application-new"),
    path("console/onboarding/<int:pk>/", views.console_application, name="console-application"),
    path(
        "console/onboarding/<int:pk>/progress.json",
        views.console_application_progress,
        name="console-application-progress",
    ),
    path(
        "console/onboarding/<int:pk>/approve/",
        views.console_application_approve,
        name="console-application-approve",
    ),
    path(
        "console/onboarding/<int:pk>/reject/",
        views.console_application_reject,
        name="console-application-reject",
    ),
    path(
        "console/onboarding/<int:pk>/retry/",
        views.console_application_retry,
        name="console-application-retry",
    ),
    path("console/onboarding/province/", views.console_province_onboard, name="console-province"),
    path(
        "console/onboarding/province/<int:pk>/",
        views.console_province_run,
        name="console-province-run",
    ),
    path(
        "console/onboarding/province/<int:pk>/progress.json",
        views.console_province_run_progress,
        name="console-province-run-progress",
    ),
    path("console/coverage/", views.console_coverage, name="console-coverage"),
    path("console/agencies/<int:pk>/", agency_views.console_agency, name="console-agency"),
    path(
        "console/agencies/<int:pk>/suspend/",
        agency_views.console_agency_suspend,
        name="console-agency-suspend",
    ),
    path(
        "console/agencies/<int:pk>/reactivate/",
        agency_views.console_agency_reactivate,
        name="console-agency-reactivate",
    ),
    path(
        "console/agencies/<int:pk>/exit-pack/",
        agency_views.console_agency_exit_pack,
        name="console-agency-exit-pack",
    ),
    path(
        "console/exit-packs/<int:pk>/download/",
        agency_views.console_exit_pack_download,
        name="console-exit-pack-download",
    ),
    path(
        "console/exit-packs/<int:pk>/restore/",
        agency_views.console_exit_pack_restore,
        name="console-exit-pack-restore",
    ),
    path(
        "console/exit-packs/<int:pk>/progress.json",
        agency_views.console_exit_pack_progress,
        name="console-exit-pack-progress",
    ),
]
