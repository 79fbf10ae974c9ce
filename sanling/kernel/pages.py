"""The portal's own “not found” page, with its header and menu — also under DEBUG (make
run), where Django would show its technical page: a role refused a page (access.require)
sees the portal's answer in Chinese, not a developer's. The API keeps its JSON shape."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render


class PortalNotFoundMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, Http404) and not request.path.startswith("/api/"):
            return render(request, "404.html", status=404)
        return None
