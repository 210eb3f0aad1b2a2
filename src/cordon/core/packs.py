"""The deployment's policy pack: which pack applies on a day (``PackSetting``, the latest whose date has
come; the pure loader's ``DEFAULT_PACK`` before any), loaded once per name. Changing it is
``core.actions.do_set_pack``. Every app reads the pack here, so none needs the app that designates areas."""
from __future__ import annotations

import datetime as dt
import functools

from cordon.core import clock
from cordon.core.models import PackSetting
from cordon.policy.pack import DEFAULT_PACK, Pack, load_pack

__all__ = ["DEFAULT_PACK", "active_pack", "active_pack_name", "load"]


@functools.lru_cache(maxsize=16)
def load(name: str) -> Pack:
    """The pack called ``name`` (or at that path), loaded once."""
    return load_pack(name)


def active_pack_name(on: dt.date | None = None) -> str:
    on = on or clock.today()
    s = PackSetting.objects.filter(effective_from__lte=on).order_by("-effective_from", "-id").first()
    return s.pack if s else DEFAULT_PACK


def active_pack(on: dt.date | None = None) -> Pack:
    return load(active_pack_name(on))
