from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path

from units import views as unit_views
from units.forms import LoginForm


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says: the static file."""
    return redirect(static("favicon.ico"), permanent=True)


urlpatterns = [
    # the API first: its statistics are the busiest route, and no other prefix overlaps it
    path("api/v1/", include("sanling.api_urls")),
    path("", unit_views.home, name="home"),
    path("favicon.ico", favicon, name="favicon"),
    path("accounts/login/", auth_views.LoginView.as_view(authentication_form=LoginForm), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("units/", include("units.urls")),
    path("accounts/manage/", include("units.account_urls")),
    path("campaigns/", include("standards.urls")),
    path("assessments/", include("inspections.urls")),
    path("incidents/", include("inspections.incident_urls")),
    path("reports/", include("reports.urls")),
    path("supervision/", include("supervision.urls")),
]
handler400 = "sanling.kernel.api.bad_request"
handler404 = "sanling.kernel.api.not_found"
handler500 = "sanling.kernel.api.server_error"
