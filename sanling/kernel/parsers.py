"""Request parsers. Kept apart from sanling.kernel.api: DRF imports its default parser
classes while its own views module is still loading."""

from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with nesting too deep to parse (Python's recursion limit) a 400,
    not a server error."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(_("JSON 嵌套层数过多。")) from None
