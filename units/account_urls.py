from django.urls import path

from . import account_views as views

app_name = "accounts"
urlpatterns = [
    path("", views.account_list, name="list"),
    path("new/", views.account_create, name="create"),
    path("<int:pk>/", views.account_edit, name="edit"),
    path("<int:pk>/active/", views.account_active, name="active"),
    path("<int:pk>/password/", views.account_password, name="password"),
    path("<int:pk>/token/", views.account_token, name="token"),
]
