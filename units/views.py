from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from . import access
from .models import Role


@login_required
def home(request):
    user = request.user
    if user.role == Role.TOWNSHIP_OFFICER:
        return redirect("inspections:worklist")
    if access.is_staff_reader(user):
        return redirect("reports:dashboard")
    return render(request, "home.html")


@login_required
def unit_list(request):
    return render(request, "base.html", {})
