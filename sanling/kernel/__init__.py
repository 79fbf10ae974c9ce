"""The kernel every app may use: API helpers and the one error shape, bulk inserts,
table exports, throttling, token authentication, service errors and domain events.

It imports no app of the portal (import-linter checks it: pyproject.toml), so anything
here that needs to know about users asks the user object (`user.is_api_client`), and
nothing here knows a model of ours.
"""
