"""Command-order pages: the sender's list, a new order, an order with its status matrix (filters, export), its
revision and withdrawal; a unit's inbox and an order as the unit sees it (read receipt on opening, what changed
since the version it read, acknowledge, progress, complete with evidence: phone-first); the live command
screen and the cheap version it polls.

Thin: parse, authorize (``for_user`` / ``access.access``), call ``command.actions``, render.
"""
from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.http import require_POST

from cordon.command import actions, exports, forms, queries, screen
from cordon.command.models import CommandOrder, OrderVersion, Recipient, RecipientStatus
from cordon.core import access, clock
from cordon.web import exports as web_exports
from cordon.web.pages import (FORM_PAGE, choice_label, done, form_context, form_page, paginate, parse_id,
                              query_without_page, record_action, route)

_status_label = choice_label(Recipient, "status")


@route("orders/", "command_orders")
@access.require(access.ORDERS_SEND)
def orders(request):
    page = paginate(request, queries.sent_orders(request.user), 30)
    rows = [{"o": o, "counts": queries.matrix_counts(o)} for o in page.object_list]
    return render(request, "command/orders.html", {"page": page, "rows": rows,
                                                   "querystring": query_without_page(request)})


@route("orders/new/", "command_new")
@access.require(access.ORDERS_SEND)
def new_order(request):
    def act(c):
        o = actions.do_send_order(title=c["title"], text=c["text"], priority=c["priority"], due=c["due"],
                                  to=c["to"], level=c["level"], role=c["role"].strip(), users=c["users"],
                                  basis=c["basis"], attachment=c["attachment"], actor=request.user,
                                  reason=c["reason"])
        return done(request, _("Order %(ref)s sent to %(n)s recipients.")
                    % {"ref": o.ref, "n": o.recipients.count()}, "command_order", pk=o.pk)

    page = form_context(_("New command order"), _("Send"), crumbs=[(reversed_url("command_orders"), _("Orders"))],
                        lead=_("The order goes straight to the executing units; each acknowledges, reports and "
                               "completes. Only units within your jurisdiction can be addressed."))
    return form_page(request, forms.OrderForm(request.POST or None, request.FILES or None), FORM_PAGE, page, act=act)


def reversed_url(name, *args):
    from django.urls import reverse

    return reverse(name, args=args)


def _order_context(request, o, bound=None) -> dict:
    bound = bound or {}
    f = forms.MatrixFilter(request.GET or None)
    flt = f.cleaned_data if f.is_valid() else {}
    page = paginate(request, queries.matrix(o, status=flt.get("status", ""), text=flt.get("text", ""),
                                            overdue=flt.get("overdue", False)), 100)
    revise = bound.get("revise") or forms.ReviseForm(prefix="revise", initial={
        "title": o.title, "text": o.text, "priority": o.priority, "due": o.due, "basis": o.basis})
    return {"o": o, "counts": queries.matrix_counts(o), "filter": f, "page": page,
            "rows": _matrix_rows(o, page.object_list),
            "versions": list(OrderVersion.objects.filter(order=o)), "querystring": query_without_page(request),
            "can_write": access.can(request.user, access.ORDERS_SEND, o) and o.status == "active",
            "revise_form": revise,
            "withdraw_form": bound.get("withdraw") or forms.ReasonForm(prefix="withdraw")}


def _matrix_rows(o, recipients) -> list[dict]:
    """The matrix's rows with their cells' text made here, once (the sender's page is reloaded all day long by
    every sender following an order: the template only places them)."""
    now = clock.now()
    tz = clock.tz()

    def at(when) -> str:
        return when.astimezone(tz).strftime("%m-%d %H:%M") if when else ""

    overdue, escalated = _("Overdue"), _("Escalated")
    labels = dict(RecipientStatus.choices)
    rows = []
    for r in recipients:
        r.order = o  # one order: not read again for each row
        status = queries.status_of(r, now)
        state = [str(labels.get(r.status, r.status))]
        if status == "overdue":
            state.append(overdue)
        if r.ack_escalated_at or r.due_escalated_at:
            state.append(escalated)
        rows.append({"status": status, "label": r.label, "state": " · ".join(map(str, state)), "read": at(r.read_at),
                     "ack": f"{at(r.acknowledged_at)} {r.acknowledged_by}".strip(), "progress": r.progress_note,
                     "done": f"{at(r.done_at)} {r.evidence_text}".strip()})
    return rows


@route("orders/<int:pk>/", "command_order")
@access.require(access.ORDERS_RECEIVE)
def order(request, pk):
    """The sender's view (the matrix); for a recipient (a notification's link) the order as their unit sees it.
    Every role that sends orders receives them too."""
    user = request.user
    if parse_id(str(pk)) is None:  # beyond the ids the database holds
        raise access.NotFound
    o = queries.sent_orders(user).filter(pk=pk).first() if access.has_perm(user, access.ORDERS_SEND) else None
    if o is None:
        received = queries.received(user)
        mine = received.filter(order_id=pk).first() or queries.received(user, everything=True).filter(
            order_id=pk).first()
        if mine is None:
            raise access.NotFound
        return _show_item(request, mine)
    return render(request, "command/order.html", _order_context(request, o))


@route("orders/<int:pk>/export/", "command_matrix_export")
@access.require(access.ORDERS_SEND)
def matrix_export(request, pk):
    o = access.access(CommandOrder, request.user, pk, read=access.ORDERS_SEND)
    f = forms.MatrixFilter(request.GET or None)
    flt = f.cleaned_data if f.is_valid() else {}
    qs = queries.matrix(o, status=flt.get("status", ""), text=flt.get("text", ""), overdue=flt.get("overdue", False))
    return web_exports.respond(request, exports.matrix(_status_label), qs, scope=o if o.district_id else None)


#: What an order's page may do (``record_action``): slug -> (form, the action run with the order, the form's fields
#: and the user, the message when done).
ORDER_STEPS = {
    "revise": (forms.ReviseForm,
               lambda o, c, user: actions.do_revise_order(o, title=c["title"], text=c["text"], priority=c["priority"],
                                                          due=c["due"], basis=c["basis"], actor=user,
                                                          reason=c["reason"]),
               gettext_lazy("Order revised; the units are told what changed.")),
    "withdraw": (forms.ReasonForm, lambda o, c, user: actions.do_withdraw_order(o, actor=user, reason=c["reason"]),
                 gettext_lazy("Order withdrawn; the units are told.")),
}


@route("orders/<int:pk>/<slug:action>/", "command_order_action")
@access.require(access.ORDERS_SEND)
@require_POST
def order_action(request, pk, action):
    o = access.access(CommandOrder, request.user, pk, read=access.ORDERS_SEND, perm=access.ORDERS_SEND)
    return record_action(request, action, ORDER_STEPS, o, to="command_order", template="command/order.html",
                         context=lambda bound: _order_context(request, o, bound))


# ------------------------------------------------------------------------------------------ a unit's inbox

@route("inbox/", "command_inbox")
@access.require(access.ORDERS_RECEIVE)
def inbox(request):
    everything = request.GET.get("all") == "1"
    page = paginate(request, queries.received(request.user, everything=everything), 30)
    rows = [{"r": r, "status": queries.status_of(r), "label": _status_label(queries.status_of(r))
             if queries.status_of(r) != "overdue" else _("Overdue")} for r in page.object_list]
    return render(request, "command/inbox.html", {"page": page, "rows": rows, "everything": everything,
                                                  "querystring": query_without_page(request)})


def _item_context(request, r, bound=None) -> dict:
    bound = bound or {}
    versions = list(OrderVersion.objects.filter(order=r.order))
    changes = [v for v in versions if v.version > max(r.read_version, 1) and v.changed]
    return {"r": r, "o": r.order, "status": queries.status_of(r), "status_label": _status_label(r.status),
            "changes": changes, "previous": {v.version: v for v in versions},
            "can_act": access.can(request.user, access.ORDERS_RECEIVE, r) and r.order.status == "active",
            "ack_form": bound.get("acknowledge") or forms.AckForm(prefix="acknowledge"),
            "progress_form": bound.get("progress") or forms.ProgressForm(prefix="progress"),
            "complete_form": bound.get("complete") or forms.CompleteForm(prefix="complete"),
            "open_statuses": (RecipientStatus.SENT, RecipientStatus.READ)}


def _recipient(request, pk):
    r = access.access(Recipient.objects.select_related("order"), request.user, pk, read=access.ORDERS_RECEIVE)
    if r.user_id is not None and r.user_id != request.user.pk:
        raise access.NotFound
    return r


@route("inbox/<int:pk>/", "command_inbox_item")
@access.require(access.ORDERS_RECEIVE)
def inbox_item(request, pk):
    """The order as the unit sees it. Opening it is the read receipt (of this version)."""
    return _show_item(request, _recipient(request, pk))


def _show_item(request, r):
    context = _item_context(request, r)  # what changed since the version read before this opening
    if r.order.status == "active" and r.read_version < r.order.version and access.can(
            request.user, access.ORDERS_RECEIVE, r):
        actions.do_read_order(r, actor=request.user)
        r.refresh_from_db()
        context["r"], context["status"] = r, queries.status_of(r)
    return render(request, "command/inbox_item.html", context)


#: What a unit's page of an order may do (``record_action``): slug -> (form, the action run with the recipient row,
#: the form's fields and the user, the message when done).
INBOX_STEPS = {
    "acknowledge": (forms.AckForm, lambda r, c, user: actions.do_acknowledge_order(r, actor=user, reason=c["reason"]),
                    gettext_lazy("Acknowledged (已签收).")),
    "progress": (forms.ProgressForm, lambda r, c, user: actions.do_report_progress(r, note=c["note"], actor=user),
                 gettext_lazy("Progress reported.")),
    "complete": (forms.CompleteForm,
                 lambda r, c, user: actions.do_complete_order(r, evidence=c["evidence"], numbers=c["numbers"],
                                                              photo=c["photo"], actor=user),
                 gettext_lazy("Completed, with its evidence.")),
}


@route("inbox/<int:pk>/<slug:action>/", "command_inbox_action")
@access.require(access.ORDERS_RECEIVE)
@require_POST
def inbox_action(request, pk, action):
    r = _recipient(request, pk)
    return record_action(request, action, INBOX_STEPS, r, to="command_inbox_item", template="command/inbox_item.html",
                         context=lambda bound: _item_context(request, r, bound))


# ------------------------------------------------------------------------------------------ the command screen

@route("screen/", "command_screen")
@access.require(access.COMMAND)
def command_screen(request):
    """The wall screen: read-only, large type; it polls ``screen/version`` each second and reloads its figures
    (``screen/data``) when the version moved (see ``command.screen`` for why a poll and not a stream)."""
    return render(request, "command/screen.html", {"data": screen.figures(request.user),
                                                   "version": screen.version()})


@route("screen/version/", "command_screen_version")
@access.require(access.COMMAND)
def command_screen_version(request):
    return JsonResponse({"version": screen.version()})


@route("screen/data/", "command_screen_data")
@access.require(access.COMMAND)
def command_screen_data(request):
    return JsonResponse({"version": screen.version(), "data": screen.figures(request.user)})


