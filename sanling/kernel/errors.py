"""The errors a service raises. A ServiceError is a refused action with a message for
the user in their language (nothing stored); PermissionDenied is a role that may not act;
Http404 is an object that is missing or not the user's (the same answer for both)."""

from django.core.exceptions import ValidationError


class ServiceError(ValidationError):
    """A refused action, with a message for the user in their language."""
