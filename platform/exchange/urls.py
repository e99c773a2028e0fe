"""Inter-agency transfer pages, under /mot-cua/lien-thong/ on an agency's host."""

from django.urls import path

from exchange import views

urlpatterns = [
    path("", views.inbox, name="exchange-inbox"),
    path("gui/<str:code>/", views.send, name="exchange-send"),
    path("<int:pk>/", views.detail, name="exchange-detail"),
    path("<int:pk>/tai-lieu/<int:doc>/", views.document, name="exchange-document"),
    path("<int:pk>/<str:name>/", views.action, name="exchange-action"),
]
