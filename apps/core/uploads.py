"""Checks for uploaded files: size and real type (by content, not only by name)."""
import os
import zipfile

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".gif", ".webp"}
DOCUMENT_EXTENSIONS = {".pdf", ".docx", ".xlsx", ".pptx"}


def _check_size(f):
    limit = settings.UPLOAD_MAX_BYTES
    if f.size is not None and f.size > limit:
        raise ValidationError(_("The file is too large (at most %(mb)d MB).") % {"mb": limit // (1024 * 1024)})


def _looks_like_image(f) -> bool:
    from PIL import Image

    pos = f.tell() if hasattr(f, "tell") else 0
    try:
        with Image.open(f) as img:
            img.verify()
        return True
    except Exception:  # noqa: BLE001 - Pillow raises many kinds for a non-image
        return False
    finally:
        f.seek(pos)


def _looks_like_document(f, ext) -> bool:
    pos = f.tell()
    try:
        head = f.read(8)
        f.seek(pos)
        if ext == ".pdf":
            return head.startswith(b"%PDF")
        if not head.startswith(b"PK"):
            return False
        return zipfile.is_zipfile(f)
    finally:
        f.seek(pos)


def validate_image(f):
    """An image file (photo evidence): jpg/png/gif/webp whose content really is an image."""
    _check_size(f)
    ext = os.path.splitext(f.name or "")[1].lower()
    if ext not in IMAGE_EXTENSIONS or not _looks_like_image(f):
        raise ValidationError(_("Upload a photo (JPG, PNG, GIF or WebP)."))


def validate_document_or_image(f):
    """A photo or a document (PDF, Word, Excel, PowerPoint)."""
    _check_size(f)
    ext = os.path.splitext(f.name or "")[1].lower()
    if ext in IMAGE_EXTENSIONS and _looks_like_image(f):
        return
    if ext in DOCUMENT_EXTENSIONS and _looks_like_document(f, ext):
        return
    raise ValidationError(_("Upload a photo or a PDF, Word, Excel or PowerPoint file."))
