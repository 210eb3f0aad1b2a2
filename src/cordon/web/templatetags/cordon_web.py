from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext

from cordon.core import access

register = template.Library()


@register.filter
def compact_json(value) -> str:
    """One-line JSON with readable Chinese (no \\u escapes)."""
    from cordon.web.exports import compact

    return compact(value)


@register.filter
def minutes(delta) -> int:
    """Whole minutes in a timedelta (rounded up)."""
    try:
        secs = delta.total_seconds()
    except AttributeError:
        return 0
    return int(-(-secs // 60))


@register.simple_tag
def crumbs(*links, current=None):
    """``{% crumbs "zones_list" _("Risk areas") current=d.area.name %}``: the breadcrumb trail, as pairs of (URL
    name or path, label) from the top, then the page itself."""
    pairs = [(href if str(href).startswith("/") else reverse(href), label)
             for href, label in zip(links[::2], links[1::2])]
    trail = format_html_join("", '<li><a href="{}">{}</a></li>', pairs)
    here = format_html('<li aria-current="page"><span>{}</span></li>', current) if current not in (None, "") else ""
    return format_html('<nav class="crumbs" aria-label="{}"><ol>{}{}</ol></nav>', gettext("Breadcrumb"), trail, here)


@register.simple_tag(takes_context=True)
def can(context, cap: str, record=None) -> bool:
    """``{% can "read_health" inf as open %}``: may the viewer use the capability (on this record, within its
    jurisdiction)? Pages draw a link only when its target would open for the viewer (``core.access.can``)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None:
        return False
    return access.can(user, cap, record)


@register.inclusion_tag("web/_action_form.html", takes_context=True)
def action_form(context, url_name: str, pk, slug: str, form, title: str, button: str, hint: str = "", style: str = ""):
    """One action of a record's page as its own small form posting to ``url_name`` (record ``pk``, action ``slug``):
    ``{% action_form "zones_action" d.pk "keep" forms.keep _("Keep past its change date") _("Keep") hint=_("...")
    style="secondary" %}``. Marked as failed when the page re-shows a refusal of this action (``error_action``)."""
    return {"url": reverse(url_name, args=[pk, slug]), "form": form, "title": title, "button": button, "hint": hint,
            "style": style, "failed": context.get("error_action") == slug, "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("web/_export.html", takes_context=True)
def export_links(context, url_name: str, *args, personal: bool = True):
    """``{% export_links "cases_contacts_export" %}``: the "Export CSV / Excel" links of a list, carrying the
    page's query (its filters; not the page number), drawn only for a viewer who may export; for one who may
    also reveal personal data (``personal``), a small form asking the reason."""
    from cordon.web.exports import may_unmask

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not access.has_perm(user, access.EXPORT):
        return {"show": False}
    params = request.GET.copy()
    for key in ("page", "format"):
        params.pop(key, None)
    query = params.urlencode()
    url = reverse(url_name, args=args)
    return {"show": True, "url": url, "query": query,
            "unmask": personal and may_unmask(user), "csrf_token": context.get("csrf_token")}
