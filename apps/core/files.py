"""Serving stored files (photos, attachments, issued documents) to the people who may see them.

Nothing under MEDIA_ROOT has a public URL, in any mode. A file is reached through the record
it belongs to: the view finds the record *within the user's scope* (outside it: 404, the same
as a missing one; anonymous: to the login page, by the login-required views), then hands the
bytes over. Behind nginx (`FILES_X_ACCEL_PREFIX`, e.g. ``/protected/``) it answers with an
``X-Accel-Redirect`` header and nginx sends the file from an ``internal`` location, so a
worker is not held for the transfer; otherwise Django streams it with ``FileResponse``.
"""
import mimetypes
import os
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404

from .models import Attachment

# Types a browser may show inline; everything else is always a download.
INLINE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf"}


def _disposition(kind: str, filename: str) -> str:
    # RFC 6266/5987: an ASCII fallback plus the UTF-8 name (Chinese file names survive).
    ascii_name = filename.encode("ascii", "ignore").decode() or "file"
    ascii_name = ascii_name.replace('"', "").replace("\\", "")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def serve_file(fieldfile, *, filename: str | None = None, as_attachment: bool | None = None, record=None):
    """A response delivering ``fieldfile`` (a FieldFile) under ``filename``.

    The caller has already checked login and scope. Missing files are 404, never a 500. With
    ``record`` (the record the file belongs to) the download is written to the trail.
    """
    if not fieldfile or not fieldfile.name:
        raise Http404
    name = fieldfile.name
    filename = filename or os.path.basename(name)
    content_type = mimetypes.guess_type(filename)[0] or mimetypes.guess_type(name)[0] or "application/octet-stream"
    if as_attachment is None:
        as_attachment = content_type not in INLINE_TYPES
    disposition = _disposition("attachment" if as_attachment else "inline", filename)
    prefix = settings.FILES_X_ACCEL_PREFIX
    if prefix:
        if not fieldfile.storage.exists(name):
            raise Http404
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + quote(name)
    else:
        try:
            handle = fieldfile.storage.open(name, "rb")
        except (FileNotFoundError, OSError):
            raise Http404
        response = FileResponse(handle, content_type=content_type)
    if record is not None:
        from .audit import record_download

        record_download(filename, record, action="download")
    response["Content-Disposition"] = disposition
    # Private to the user's browser; a served file can never run script in our origin.
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def attachment_file(request, pk, filename=None):
    """A photo or file attached to a record the user may see."""
    attachment = get_object_or_404(Attachment.objects.visible_to(request.user), pk=pk)
    # Photos shown on pages are not downloads; an explicit download (``?download=1``) is recorded.
    download = request.GET.get("download") == "1"
    return serve_file(attachment.file, filename=attachment.download_name, as_attachment=download or None,
                      record=attachment if download else None)
