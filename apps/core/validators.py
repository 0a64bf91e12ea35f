"""Validators shared by forms, the API and imports (one rule, one place)."""
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

PHONE_SEPARATORS = re.compile(r"[\s\-()（）]")
PHONE_FORMS = re.compile(
    r"1[3-9]\d{9}"  # mobile
    r"|0\d{9,11}(?:(?:转|ext\.?|#)?\d{1,6})?"  # area code + local number, optional extension
    r"|[2-9]\d{6,7}"  # local number without area code
    r"|[48]00\d{7}",  # 400 / 800 service numbers
    re.IGNORECASE,
)


def validate_phone(value):
    """A Chinese mobile, landline (with area code, extension) or 400/800 number; spaces, hyphens,
    brackets and a +86 prefix allowed. ``12345`` and other short numbers are refused."""
    compact = PHONE_SEPARATORS.sub("", str(value or ""))
    compact = re.sub(r"^(?:\+|00)86", "", compact)
    if compact and not PHONE_FORMS.fullmatch(compact):
        raise ValidationError(_("Enter a valid phone number (a mobile or landline number, e.g. 13800000000 or "
                                "0571-88001000)."), code="invalid_phone")
