"""What screening asks of the apps above it without importing them (registered in their ``AppConfig.ready``
with ``places.hooks.connect(name, fn, hooks)``).

- ``AFTER_BATCH``: ``(name, fn(batch))``: a registrations or results batch (``ImportBatch``) has finished; called
  once, inside the transaction that marks it done (a rerun of a batch killed before that calls it again). The
  function reads the batch's tubes set-based (``batch_id``): keyworkers takes its workers' negative tubes as
  their latest samples.
"""
from __future__ import annotations

from typing import Callable

AFTER_BATCH: list[tuple[str, Callable]] = []
