from django.urls import path

from . import views

app_name = "units"
urlpatterns = [
    path("", views.unit_list, name="list"),
    path("new/", views.unit_create, name="create"),
    path("<int:pk>/edit/", views.unit_edit, name="edit"),
    path("<int:pk>/archive/", views.unit_archive, name="archive"),
    path("import/", views.unit_import, name="import"),
    path("import/template.xlsx", views.import_template, name="import_template"),
    path("lookup/", views.unit_lookup, name="lookup"),
    path("lookup/townships/", views.township_lookup, name="township_lookup"),
    path("lookup/regions/", views.region_lookup, name="region_lookup"),
]
