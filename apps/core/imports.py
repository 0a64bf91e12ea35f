"""The import page flow shared by every spreadsheet import: upload, list every problem, preview
what emptied cells will clear, confirm, save (all or nothing)."""
import os
import secrets
import time
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .excel import MAX_IMPORT_BYTES
from .forms import ScopedForm

KEEP_SECONDS = 3600
ACCEPT = ".xlsx,.xls,.csv"


class ImportForm(ScopedForm):
    file = forms.FileField(label=gettext_lazy("Spreadsheet (.xlsx, .xls or .csv)"), required=False,
                           widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}))
    confirm = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if not data.get("file") and not data.get("confirm"):
            self.add_error("file", _("Choose a file to upload."))
        return data


def _kept_dir() -> Path:
    path = Path(settings.VAR_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def keep_upload(user, uploaded) -> str:
    """Keep an upload until the user confirms the preview; returns the token naming it."""
    folder = _kept_dir()
    for old in folder.iterdir():  # forget previews nobody confirmed
        if old.stat().st_mtime < time.time() - KEEP_SECONDS:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(18)
    uploaded.seek(0)
    suffix = os.path.splitext(uploaded.name or "")[1].lower()[:6]
    (folder / f"{user.pk}-{token}{suffix}").write_bytes(uploaded.read(MAX_IMPORT_BYTES + 1))
    return f"{token}{suffix}"


def take_upload(user, token):
    """The kept upload of this user named by ``token`` (removed from disk), or None."""
    if not token or "/" in token or "\\" in token or token.startswith("."):
        return None
    path = _kept_dir() / f"{user.pk}-{token}"
    if not path.is_file():
        return None
    content = path.read_bytes()
    path.unlink(missing_ok=True)
    return SimpleUploadedFile(f"import{os.path.splitext(token)[1]}", content)


def import_page(request, *, run, template, context, success_url, success_message):
    """Handle the POST of an import page.

    ``run(file, user, confirm_clears=...)`` returns an :class:`apps.core.excel.ImportResult`.
    Errors answer 400 with one line per bad cell; stored values that emptied cells would clear
    are listed for confirmation first (nothing is saved until then).
    """
    form = ImportForm(request.POST, request.FILES, user=request.user)
    ctx = dict(context, form=form)
    status = 200
    if form.is_valid():
        token = form.cleaned_data.get("confirm")
        upload = form.cleaned_data.get("file") or take_upload(request.user, token)
        if upload is None:
            messages.error(request, _("The file to confirm has expired; upload it again."))
            return render(request, template, ctx, status=400)
        result = run(upload, request.user, confirm_clears=bool(token) and not form.cleaned_data.get("file"))
        if result.saved:
            messages.success(request, success_message % {"n": result.count})
            return HttpResponseRedirect(success_url)
        if result.errors:
            messages.error(request, _("Nothing was imported: fix the rows below and upload again."))
            ctx["errors"] = result.errors
            status = 400
        else:
            ctx["clears"] = result.clears
            ctx["count"] = result.count
            ctx["token"] = keep_upload(request.user, upload)
    else:
        status = 400
    return render(request, template, ctx, status=status)
