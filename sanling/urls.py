from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from units import views as unit_views
from units.forms import LoginForm

urlpatterns = [
    path("", unit_views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(authentication_form=LoginForm), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("units/", include("units.urls")),
    path("assessments/", include("inspections.urls")),
    path("incidents/", include("inspections.incident_urls")),
    path("reports/", include("reports.urls")),
    path("supervision/", include("supervision.urls")),
    path("api/v1/", include("sanling.api_urls")),
]
handler400 = "sanling.kernel.api.bad_request"
handler404 = "sanling.kernel.api.not_found"
handler500 = "sanling.kernel.api.server_error"
