from django import template

from cordon.situation.sections import step_title as _step_title

register = template.Library()


@register.filter
def step_title(value) -> str:
    """A response step key (``transfer``, ``investigation``) as the pack's title in the reader's language."""
    return _step_title(value)
