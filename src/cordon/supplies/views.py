"""Supplies pages: the dashboard (stock, shortages, allocations, deliveries per sealed building,
reconciliation, price alerts) with its forms, and the delivery list of a building with delivered/failed."""
from __future__ import annotations

import datetime as dt

from django.shortcuts import redirect, render
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.http import require_POST

from cordon.care import perms
from cordon.care.views import DESK
from cordon.core import access, clock
from cordon.supplies import actions, config, exports, forms, hooks, queries
from cordon.supplies.models import (Allocation, DeliveryOrder, DeliveryStatus, DeliveryTeam, Item, PriceReport,
                                    Reconciliation, Warehouse)
from cordon.places.models import Area
from cordon.web import exports as web_exports
from cordon.web.pages import (BULK_PAGE, attempt, bulk_context, bulk_done, choice_label, create_page, done, form_errors_text, paginate, parse_id, posted_text, query_id,
                              query_without_page, route, run_rows, submit)
from cordon.web.forms import BulkDecisionForm
from cordon.zones.models import Designation, Status as ZStatus


def _choices(user):
    ws = list(Warehouse.objects.for_user(user).order_by("name")[:200])
    items = list(Item.objects.order_by("kind", "name"))
    return ws, items


def _forms(user, data=None, which=None):
    ws, items = _choices(user)
    wch = [(w.pk, w.name) for w in ws]
    ich = [(i.pk, f"{i.name} ({i.unit})") for i in items]
    out = {}
    for key, cls in (("move", forms.MovementForm), ("count", forms.CountForm), ("reconcile", forms.ReconcileForm),
                     ("allocate", forms.AllocateForm), ("price", forms.PriceForm)):
        f = cls(data if which == key else None, prefix=key)
        if "warehouse" in f.fields:
            f.fields["warehouse"].choices = wch
        if "item" in f.fields:
            f.fields["item"].choices = ich if key != "price" else [(i.pk, i.name) for i in items if i.baseline_price]
            if key == "allocate":
                f.fields["item"].choices = [(i.pk, i.name) for i in items if i.per_person_per_day > 0]
        if key == "allocate":
            f.fields["designation"].choices = [(d.pk, d.area.path) for d in Designation.objects.for_user(user).filter(
                status=ZStatus.ACTIVE).select_related("area").order_by("area__path")[:300]]
        out[key] = f
    return out


@route("supplies/", "supplies_dashboard")
@access.require(access.SUPPLIES_READ)
def dashboard(request, bound=None, status=200, error=None):
    user = request.user
    today = clock.today()
    ws, _items = _choices(user)
    stock = queries.stock_table(ws)
    allocations = list(Allocation.objects.for_user(user).select_related("designation__area", "item", "warehouse")
                       .order_by("-on", "-id")[:50])
    deliveries = queries.deliveries_by_building(DeliveryOrder.objects.for_user(user).filter(
        due_on__gte=today - dt.timedelta(days=7)))
    recs = {}
    for r in Reconciliation.objects.for_user(user).select_related("warehouse").order_by("-on", "-id")[:100]:
        recs.setdefault(r.warehouse_id, r)
    alerts = list(PriceReport.objects.for_user(user, access.SUPPLIES_READ).filter(alert=True, on__gte=today - dt.timedelta(days=14))
                  .select_related("item").order_by("-on", "-rise_pct")[:30])
    context = {"stock": stock, "allocations": allocations, "deliveries": deliveries[:100],
               "reconciliations": list(recs.values()), "alerts": alerts,
               "shortages": [a for a in allocations if a.shortage > 0],
               "can_write": perms.has_desk_role(user, perms.SUPPLY_ROLES), "forms": bound or _forms(user),
               "threshold": config.config()["price_alert_rise_pct"], "error": error, "today": today,
               "teams": list(DeliveryTeam.objects.for_user(user).order_by("name")[:50])}
    return render(request, "supplies/dashboard.html", context, status=status)


@route("supplies/do/<slug:action>/", "supplies_action")
@access.require(access.SUPPLIES_WRITE)
@require_POST
def post_action(request, action: str):
    user = request.user
    if action not in ("move", "count", "reconcile", "allocate", "price"):
        raise access.NotFound
    fs = _forms(user, request.POST, action)
    f = fs[action]

    def act(c):
        w = perms.access_write(Warehouse, user, c["warehouse"], perms.SUPPLY_ROLES) if "warehouse" in c else None
        item = Item.objects.get(pk=c["item"]) if "item" in c else None
        if action == "move":
            actions.do_move_stock(w, item, direction=c["direction"], quantity=c["quantity"], reason=c["reason"],
                                  actor=user)
            message = _("Stock movement recorded.")
        elif action == "count":
            actions.do_count_stock(w, item, counted=c["counted"], actor=user)
            message = _("Count recorded.")
        elif action == "reconcile":
            rec = actions.do_reconcile(w, actor=user)
            message = _("Reconciled: balanced.") if rec.balanced else \
                _("Reconciled: NOT balanced, see the differences.")
        elif action == "allocate":
            d = perms.access_write(Designation.objects.select_related("area"), user, c["designation"],
                                   perms.SUPPLY_ROLES)
            a = actions.do_allocate(d, warehouse=w, item=item, days=c["days"], actor=user)
            message = _("Allocated %(q)s for %(n)s people x %(d)s days.") % {"q": a.quantity, "n": a.headcount,
                                                                            "d": a.days}
        else:
            r = actions.do_report_price(item, market=c["market"], price=c["price"], actor=user)
            message = (_("Price alert: %(p)s%% above the baseline.") % {"p": r.rise_pct}) if r.alert else \
                _("Price recorded.")
        return done(request, message, "supplies_dashboard")

    return submit(f, act, lambda exc: dashboard(request, fs, 400, str(exc) if exc else form_errors_text(f)))


NEW = {"warehouse": (forms.WarehouseForm, gettext_lazy("New warehouse")),
       "item": (forms.ItemForm, gettext_lazy("New item")),
       "team": (forms.TeamForm, gettext_lazy("New delivery team"))}


@route("supplies/new/<slug:what>/", "supplies_new")
@access.require(access.SUPPLIES_WRITE)
def create(request, what: str):
    """Create a warehouse, an item or a delivery team (logistics officers and staff with write access; a
    warehouse or team only in an area of their jurisdiction)."""
    user = request.user

    def make(what, c):
        if what == "item":
            return actions.do_create_item(c["name"], kind=c["kind"], unit=c["unit"],
                                          per_person_per_day=c["per_person_per_day"] or 0,
                                          baseline_price=c["baseline_price"], price_unit=c["price_unit"], actor=user)
        area = perms.area_by_path(user, c["area"], perms.SUPPLY_ROLES)
        if what == "warehouse":
            return actions.do_create_warehouse(c["name"], area=area, actor=user)
        return actions.do_create_team(c["name"], area=area, leader=c["leader"], phone=c["phone"], actor=user)

    return create_page(request, NEW, what, make, back="supplies_dashboard", created=_("%(name)s created."), **DESK,
                       form_class="desk-form")


@route("supplies/allocations/<int:pk>/issue/", "supplies_issue")
@access.require(access.SUPPLIES_WRITE)
@require_POST
def issue(request, pk: int):
    user = request.user
    a = perms.access_write(Allocation.objects.select_related("designation__area", "item", "warehouse"), user, pk,
                           perms.SUPPLY_ROLES)
    team = None
    if parse_id(request.POST.get("team")) is not None:
        team = DeliveryTeam.objects.for_user(user).filter(pk=parse_id(request.POST["team"])).first()
    attempt(request, lambda: actions.do_issue_allocation(a, team=team, actor=user),
            ok=lambda orders: _("Issued; %(n)s delivery orders to the door.") % {"n": len(orders)})
    return redirect("supplies_dashboard")


def _deliveries(request):
    """The deliveries page's rows: its building and status filters (shared with its export and print)."""
    return queries.delivery_list(request.user, query_id(request, "building"), request.GET.get("status") or "")


@route("supplies/deliveries/export/", "supplies_deliveries_export")
@access.require(access.EXPORT)
def deliveries_export(request):
    """The deliveries, with the page's filters, as CSV or XLSX."""
    return web_exports.respond(request, exports.deliveries(choice_label(DeliveryOrder, "status")), _deliveries(request))


@route("supplies/deliveries/print/<int:building_id>/", "supplies_deliveries_print")
@access.require(access.SUPPLIES_READ)
def deliveries_print(request, building_id: int):
    """A building's deliveries still to make (or of the status asked), printed on A4 to tick at each door."""
    building = access.access(Area, request.user, building_id, read=access.SUPPLIES_READ)
    if building.kind != "building":
        raise access.NotFound
    listing = exports.deliveries(choice_label(DeliveryOrder, "status"))
    qs = queries.delivery_list(request.user, building.pk, request.GET.get("status") or "planned")
    return web_exports.print_page(
        request, listing, qs.values(*listing.fields)[:web_exports.PRINT_ROWS + 1], title=gettext_lazy("Deliveries to the door"),
        address=building.path, columns=("Unit", "Door", "Item", "Quantity", "Unit of measure", "Due on"),
        checks=(gettext_lazy("Delivered"), gettext_lazy("Signature")))


@route("supplies/deliveries/", "supplies_deliveries")
@access.require(access.SUPPLIES_READ)
def deliveries(request):
    user = request.user
    qs = _deliveries(request).select_related("household", "item", "team")
    page = paginate(request, qs, 100)
    units = Area.objects.in_bulk({o.unit_id for o in page.object_list if o.unit_id})
    return render(request, "supplies/deliveries.html", {
        "page": page, "rows": [{"o": o, "unit": units.get(o.unit_id)} for o in page.object_list],
        "querystring": query_without_page(request), "fail_form": forms.FailForm(),
        "building": query_id(request, "building"), "reassign": hooks.to_reassign(user, clock.today()),
        "can_write": perms.has_desk_role(user, perms.SUPPLY_ROLES)})


@route("supplies/deliveries/mark/", "supplies_deliveries_bulk")
@access.require(access.SUPPLIES_WRITE)
def deliveries_bulk(request):
    """Mark many planned deliveries at once (a building's round, with ``building``): a check box per delivery,
    one outcome and one submit; each ticked delivery is one audited action, a refused one (marked by someone
    else meanwhile) is reported with its reason and the others are kept."""
    user = request.user
    mine = DeliveryOrder.objects.for_user(user, access.SUPPLIES_WRITE)  # a marked one is refused by the action
    planned = mine.filter(status=DeliveryStatus.PLANNED)
    building = query_id(request, "building")
    if building is not None:
        planned = planned.filter(building_id=building)
    form = BulkDecisionForm(request.POST or None, choices=[("delivered", _("Delivered")), ("failed", _("Failed"))],
                            needs_reason=("failed",), reason_label=_("Why it failed"), reason_max=200)
    report = None
    if request.method == "POST" and form.is_valid():
        c = form.cleaned_data

        def act(o, _values):
            if c["decision"] == "delivered":
                return actions.do_mark_delivered(o, actor=user)
            return actions.do_mark_failed(o, reason=c["reason"], actor=user)

        report = run_rows(request, mine.select_related("household"), "row", act,
                          label=lambda o: f"{o.household.number} · {o.pk}")
        answer = bulk_done(request, report, request.get_full_path())
        if answer is not None:
            return answer
    page = paginate(request, planned.select_related("household", "item", "team")
                    .order_by("unit_id", "household_id", "id"), 100)
    units = Area.objects.in_bulk({o.unit_id for o in page.object_list if o.unit_id})
    status = 400 if request.method == "POST" and (report is None or not report["ok"]) else 200
    rows = [{"o": o, "unit": units.get(o.unit_id)} for o in page.object_list]
    return render(request, BULK_PAGE, {
        "page": page, "rows": rows, "form": form, "report": report, "querystring": query_without_page(request),
        **bulk_context(_("Mark several deliveries"), _("Tick the deliveries of the round, choose the outcome and "
                                                       "submit once: each ticked delivery is marked and audited on "
                                                       "its own."),
                       _("Mark the ticked deliveries"), "supplies/_delivery_rows.html", rows, desk=True)},
        status=status)


@route("supplies/deliveries/<int:pk>/<slug:action>/", "supplies_delivery_action")
@access.require(access.SUPPLIES_WRITE)
@require_POST
def delivery_action(request, pk: int, action: str):
    user = request.user
    if action not in ("delivered", "failed"):
        raise access.NotFound
    o = perms.access_write(DeliveryOrder, user, pk, perms.SUPPLY_ROLES)

    def act():
        if action == "delivered":
            return actions.do_mark_delivered(o, actor=user)
        return actions.do_mark_failed(o, reason=posted_text(request, "reason", 200), actor=user)

    attempt(request, act, ok=_("Delivery updated."))
    nxt = request.POST.get("next") or ""
    return redirect(nxt if nxt.startswith("/supplies/") else "supplies_deliveries")
