from django.urls import path

from . import views

app_name = "campaigns"
urlpatterns = [
    path("", views.campaign_years, name="index"),
    path("<slug:slug>/", views.campaign_years, name="years"),
    path("<slug:slug>/open/", views.year_open, name="open"),
    path("<slug:slug>/targets/", views.targets_save, name="targets"),
]
