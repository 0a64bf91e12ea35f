"""Bad input that reached the database layer, told apart from bugs: one place for pages and the API.

Query parameters, path ids and body values are validated by forms, filters and serializers; what
slips through (a number beyond 64 bits, a year the database cannot hold, text where an id is
expected) fails where Django converts the value for the database. Those failures are the
client's, so they answer 400 with a reason instead of 500. Everything else stays a server error.
"""
import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.utils.translation import gettext as _

# Django's field conversions (``get_prep_value``, ``to_python``) live in these modules.
_CONVERSION_MODULES = ("django/db/models/fields", "django/db/models/lookups", "django/db/backends")
MAX_JSON_DEPTH = 64
# No record of the platform is older; periods asked for before it are a typo (or a probe), and
# year 1 does not even convert to UTC on every database.
EARLIEST_DATE = datetime.date(2000, 1, 1)
INT64 = (-(2**63), 2**63 - 1)


def _raised_in_conversion(exc):
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    if last is None:
        return False
    filename = last.tb_frame.f_code.co_filename.replace("\\", "/")
    return any(mod in filename for mod in _CONVERSION_MODULES)


def bad_input_reason(exc):
    """A reason to show the client if ``exc`` was caused by its input, else ``None``."""
    if isinstance(exc, OverflowError | DataError):
        return _("A number or date in the request is out of range.")
    if isinstance(exc, ValueError | TypeError) and _raised_in_conversion(exc):
        return _("A value in the request has the wrong type (for example text where a number is expected).")
    if isinstance(exc, DjangoValidationError):
        return "; ".join(exc.messages) or _("A value in the request is not valid.")
    return None


def json_depth_exceeded(value, limit=MAX_JSON_DEPTH):
    """Whether parsed JSON nests deeper than ``limit`` (iterative, so it cannot recurse itself)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def valid_id(value):
    """Whether a path or body id is a positive integer the database can hold."""
    text = str(value)
    return text.isascii() and text.isdigit() and 0 < int(text) <= INT64[1]

