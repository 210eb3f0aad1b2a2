"""The site shell's own page: the audit log (``core``'s records; every other page lives in its app)."""
from __future__ import annotations

from django.db.models import Q
from django.shortcuts import render

from cordon.core import access
from cordon.core.models import AuditEntry
from cordon.web import exports
from cordon.web.forms import AuditFilterForm
from cordon.web.pages import paginate, query_without_page

#: the audit log as a file (audit rows never hold a person's name, ID number or phone: nothing to mask)
AUDIT_LOG = exports.declared(__package__, "audit-log", json=exports.compact)


def audit_entries(request):
    """The filter form of the audit log and the entries it selects, newest first (the page and its export)."""
    qs = AuditEntry.objects.for_user(request.user, access.AUDIT)
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        if d.get("actor"):
            qs = qs.filter(actor_name__icontains=d["actor"])
        if d.get("action"):
            qs = qs.filter(action__startswith=d["action"])
        if d.get("object_type"):
            qs = qs.filter(object_type=d["object_type"])
        if d.get("date_from"):
            qs = qs.filter(at__date__gte=d["date_from"])
        if d.get("date_to"):
            qs = qs.filter(at__date__lte=d["date_to"])
        if d.get("text"):
            t = d["text"]
            qs = qs.filter(Q(object_repr__icontains=t) | Q(reason__icontains=t) | Q(object_id=t)
                           | Q(rule__icontains=t))
    return form, qs.order_by("-at", "-id")


@access.require(access.AUDIT)
def audit_list(request):
    form, qs = audit_entries(request)
    page = paginate(request, qs)
    return render(request, "web/audit_list.html", {
        "form": form, "entries": page, "querystring": query_without_page(request),
    })


@access.require(access.AUDIT)
def audit_export(request):
    """The audit log, with its filters, as CSV or XLSX (for those who read it and may export)."""
    _form, qs = audit_entries(request)
    return exports.respond(request, AUDIT_LOG, qs)
