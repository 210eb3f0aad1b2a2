"""The "Files in" pages: upload a file of a kind the user may import (``core.uploads``: residents,
registrations, results, counts; each kind registered by the app that owns it), follow its import (a progress bar
polling a small JSON answer; without JavaScript the page refreshes itself) and download the rows it did not keep
(line, field, reason) as CSV. The list shows the uploads within the viewer's jurisdiction."""
from __future__ import annotations

import hashlib

from django import forms
from django.conf import settings
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler
from django.http import FileResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cordon.core import access, queue, uploads
from cordon.core.actions import ActionError, do_create_upload
from cordon.core.models import UploadStatus
from cordon.web.pages import bind_error, paginate, route


class LimitedUploadHandler(TemporaryFileUploadHandler):
    """Every uploaded file streamed to a temporary file on disk (never whole in memory) beside the stored
    uploads, and hashed (sha256) as its bytes arrive, so that keeping it (``core.uploads.store``) is a rename
    that reads nothing again; refused past ``CORDON_UPLOAD_MAX`` bytes: the rest of the request is read and
    dropped, and the page says why."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.seen = 0
        self.sha256 = hashlib.sha256()

    def receive_data_chunk(self, raw_data, start):
        self.seen += len(raw_data)
        if self.seen > settings.CORDON_UPLOAD_MAX:
            if self.request is not None:
                self.request.cordon_upload_too_large = True
            self.file.close()
            raise StopUpload(connection_reset=False)
        self.sha256.update(raw_data)
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size):
        file = super().file_complete(file_size)
        file.sha256 = self.sha256.hexdigest()
        return file


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What the file holds"))
    file = forms.FileField(label=gettext_lazy("File"))

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds = uploads.kinds_for(user)
        self.fields["kind"].choices = [(k.name, k.label) for k in self.kinds]
        self.fields["kind"].help_text = " ".join(f"{k.label}: {k.help}" for k in self.kinds)
        for k in self.kinds:
            for name, f in (k.form_fields(user) if k.form_fields else {}).items():
                self.fields.setdefault(name, f)
        # Each extra field names the kinds that ask for it (``Kind.options``): the page's script shows it only
        # for those; without JavaScript every field shows, labelled with its kind, and ``clean`` asks for it.
        for name in self.fields:
            needing = [k.name for k in self.kinds if name in k.options]
            if needing:
                self.fields[name].widget.attrs["data-kinds"] = " ".join(needing)

    def clean(self):
        data = super().clean()
        kind = next((k for k in self.kinds if k.name == data.get("kind")), None)
        for name in kind.options if kind is not None else ():
            if name in self.fields and data.get(name) in (None, "") and name not in self.errors:
                self.add_error(name, _("%(field)s: a file of %(kind)s needs it.")
                               % {"field": self.fields[name].label, "kind": kind.label})
        return data


#: The importers' counts as the page names them.
COUNT_LABELS = {
    "rows": gettext_lazy("Rows read"), "created": gettext_lazy("Created"), "updated": gettext_lazy("Updated"),
    "unchanged": gettext_lazy("Unchanged"), "households_created": gettext_lazy("Households created"),
    "kept": gettext_lazy("Rows kept"), "duplicates": gettext_lazy("Duplicates"), "bad": gettext_lazy("Bad rows"),
    "batch": gettext_lazy("Import batch"), "already": gettext_lazy("Imported before (nothing changed)"),
    "series": gettext_lazy("Series"),
}


def _counts(u) -> list[tuple[str, object]]:
    out = []
    for k, v in (u.counts or {}).items():
        if isinstance(v, bool):
            if not v:
                continue
            v = _("yes")
        out.append((COUNT_LABELS.get(k, k), v))
    return out


def _visible(user):
    return uploads.visible_to(user)


def _get(user, pk):
    u = _visible(user).filter(pk=pk).first()
    if u is None:
        raise access.NotFound
    return u


def _state(u) -> dict:
    done, total = uploads.progress(u)
    return {"id": u.pk, "status": u.status, "status_label": str(UploadStatus(u.status).label), "unit": u.measure,
            "done": done, "total": total, "percent": round(100.0 * min(done, total) / total, 1) if total else None,
            "counts": u.counts, "errors": u.errors, "finished": u.status in (UploadStatus.DONE, UploadStatus.FAILED)}


@route("uploads/", "uploads")
@access.require(access.UPLOAD)
def upload_list(request):
    user = request.user
    form = UploadForm(user, request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if getattr(request, "cordon_upload_too_large", False):
            form.is_valid()
            form.add_error("file", _("The file is larger than the limit of %(size)s.")
                           % {"size": filesizeformat(settings.CORDON_UPLOAD_MAX)})
        elif form.is_valid():
            d = form.cleaned_data
            try:
                u = do_create_upload(d["file"], kind=d["kind"], options=d, actor=user)
            except ActionError as exc:
                bind_error(form, exc)
            else:
                if u.size <= settings.CORDON_UPLOAD_INLINE:
                    queue.run_now(u.task_id)
                return redirect("upload_detail", pk=u.pk)
        status = 400
    page = paginate(request, _visible(user).order_by("-created", "-id"))
    labels = {k.name: k.label for k in uploads.kinds()}
    for u in page:
        u.kind_label = labels.get(u.kind, u.kind)
    return render(request, "web/uploads.html", {
        "form": form, "uploads": page, "limit": filesizeformat(settings.CORDON_UPLOAD_MAX)}, status=status)


@route("uploads/<int:pk>/", "upload_detail")
@access.require(access.UPLOAD)
def upload_detail(request, pk: int):
    u = _get(request.user, pk)
    kind = uploads.KINDS.get(u.kind)
    return render(request, "web/upload_detail.html", {
        "u": u, "state": _state(u), "kind_label": kind.label if kind else u.kind,
        "counts": _counts(u)})


@route("uploads/<int:pk>/progress.json", "upload_progress")
@access.require(access.UPLOAD)
def upload_progress(request, pk: int):
    return JsonResponse(_state(_get(request.user, pk)))


@route("uploads/<int:pk>/errors.csv", "upload_report")
@access.require(access.UPLOAD)
def upload_report(request, pk: int):
    u = _get(request.user, pk)
    if not u.report:
        raise access.NotFound
    try:
        fh = open(u.report, "rb")
    except OSError:
        raise access.NotFound from None
    return FileResponse(fh, as_attachment=True, filename=f"upload-{u.pk}-errors.csv", content_type="text/csv")
