"""The site shell's own pages, on ``core``'s records: the audit log, the signed-in user's API tokens, and the
policy pack in force (every other page lives in its app)."""
from __future__ import annotations

from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cordon.core import access, audit, clock, packs
from cordon.core.actions import do_create_token, do_revoke_token, do_set_pack
from cordon.core.models import ApiToken, AuditEntry, PackSetting
from cordon.web import exports
from cordon.web.forms import AuditFilterForm, PackForm, TokenForm
from cordon.web.pages import FORM_PAGE, attempt, done, form_context, form_page, paginate, query_without_page

#: the audit log as a file (audit rows never hold a person's name, ID number or phone: nothing to mask)
AUDIT_LOG = exports.declared(__package__, "audit-log", json=exports.compact)


def audit_entries(request):
    """The filter form of the audit log and the entries it selects, newest first (the page and its export)."""
    qs = AuditEntry.objects.for_user(request.user, access.AUDIT)
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        qs = audit.select(qs, d.get("text") or "", actor_contains=d.get("actor"), action=d.get("action"),
                          object_type=d.get("object_type"), since=d.get("date_from"), until=d.get("date_to"))
    return form, qs.order_by("-at", "-id")


@access.public
def favicon(request):
    """The site's icon at /favicon.ico, where a browser asks for it on an answer with no icon of its own (a JSON
    file), instead of a 404."""
    from django.contrib.staticfiles import finders
    from django.http import FileResponse

    response = FileResponse(open(finders.find("cordon/icon.svg"), "rb"), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response


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

# ---------------------------------------------------------------------------------------------- API tokens

@access.require(access.SIGNED_IN)
def account_tokens(request):
    """The signed-in user's API tokens (name, first characters, last use; revoked ones marked) and a form for
    a new one, whose secret is shown once, on the answer to its creation (never stored, never cached)."""
    user = request.user
    form = TokenForm(request.POST or None)
    secret = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            _token, secret = do_create_token(user, form.cleaned_data["name"].strip(), actor=user)
            form = TokenForm()
        else:
            status = 400
    tokens = list(ApiToken.objects.filter(user=user).order_by("-id")[:100])
    response = render(request, "web/tokens.html", {"form": form, "tokens": tokens, "secret": secret},
                      status=status)
    if secret:
        response["Cache-Control"] = "no-store"
    return response


@access.require(access.SIGNED_IN)
@require_POST
def account_token_revoke(request, pk: int):
    token = ApiToken.objects.filter(pk=pk, user=request.user).first()
    if token is None:
        raise access.NotFound
    if not token.revoked:
        attempt(request, lambda: do_revoke_token(token, actor=request.user, reason="revoked on the tokens page"),
                ok=_("Token %(name)s revoked: programs using it are refused from now on.") % {"name": token.name})
    return redirect("account_tokens")


# ---------------------------------------------------------------------------------------------- policy pack

@access.require(access.COMMAND)
def settings_pack(request):
    """The policy pack in force and the ones selected before; commanders select the pack that applies from a
    day (``do_set_pack``, audited)."""
    today = clock.today()
    form = PackForm(request.POST or None, initial={"pack": packs.active_pack_name(today), "effective_from": today})

    def act(c):
        s = do_set_pack(c["pack"], effective_from=c["effective_from"], actor=request.user, reason=c["reason"])
        return done(request, _("Pack %(p)s applies from %(d)s.") % {"p": s.pack, "d": s.effective_from},
                    "settings_pack")

    history = ", ".join(f"{s.effective_from:%Y-%m-%d} {s.pack}" for s in PackSetting.objects.all()[:10])
    page = form_context(_("Policy pack"), _("Select"),
                        lead=_("In force today: %(p)s. Selected before: %(h)s.") % {
                            "p": packs.active_pack_name(today), "h": history or "—"}, novalidate=True)
    return form_page(request, form, FORM_PAGE, page, act=act)
