import json

from django import template

register = template.Library()


@register.filter
def compact_json(value) -> str:
    """One-line JSON with readable Chinese (no \\u escapes)."""
    if value is None or value == {} or value == []:
        return ""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


@register.filter
def minutes(delta) -> int:
    """Whole minutes in a timedelta (rounded up)."""
    try:
        secs = delta.total_seconds()
    except AttributeError:
        return 0
    return int(-(-secs // 60))


@register.filter
def step_title(value) -> str:
    """A response step key (``transfer``, ``investigation``) as the pack's title in the reader's language."""
    from cordon.situation.sections import step_title as title

    return title(value)


@register.simple_tag(takes_context=True)
def can(context, cap: str, record=None) -> bool:
    """``{% can "read_health" inf as open %}``: may the viewer use the capability (on this record, within its
    jurisdiction)? Pages draw a link only when its target would open for the viewer (``core.access.can``)."""
    from cordon.core import access

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None:
        return False
    return access.can(user, cap, record)
