"""The staff page under /quan-tri/nhan-su/ (agency hosts)."""

from django.urls import path

from accounts import staff_views

urlpatterns = [
    path("", staff_views.staff_page, name="staff-list"),
    path("<int:membership_id>/", staff_views.staff_member_page, name="staff-member"),
    path(
        "<int:membership_id>/ngung/",
        staff_views.staff_deactivate_view,
        name="staff-deactivate",
    ),
]
