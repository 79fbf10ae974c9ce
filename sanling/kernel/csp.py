"""The Content-Security-Policy header: django-csp's policy (settings.CONTENT_SECURITY_POLICY)
on every page, and on the API's data — JSON and the OpenAPI schema, which no browser runs
as a document — a fixed policy that allows nothing at all. The data's policy is a
constant: django-csp would build the page policy (and its report-only twin) anew for each
of the API's responses, the busiest of which take ~1 ms in all (docs/benchmarks.md)."""

from __future__ import annotations

from csp.constants import HEADER
from csp.middleware import CSPMiddleware as PageCSPMiddleware

DATA_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DATA_TYPES = ("application/json", "application/problem+json", "application/vnd.oai.openapi")


class CSPMiddleware(PageCSPMiddleware):
    def process_response(self, request, response):
        if response.get("Content-Type", "").startswith(DATA_TYPES) and HEADER not in response:
            response[HEADER] = DATA_POLICY
            return response
        return super().process_response(request, response)
