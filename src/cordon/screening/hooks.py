"""What screening asks of the apps above it without importing them (registered in their ``AppConfig.ready``
with ``places.hooks.connect(name, fn, hooks)``).

- ``AFTER_BATCH``: ``(name, fn(batch))``: a registrations or results batch (``ImportBatch``) has finished; called
  once, inside the transaction that marks it done (a rerun of a batch killed before that calls it again). The
  function reads the batch's tubes set-based (``batch_id``): keyworkers takes its workers' negative tubes as
  their latest samples.
- ``AFTER_RETEST``: ``(name, fn(resident_id, result, sampled_on, infection, actor))``: a recalled person's
  single-tube retest was recorded (inside the action's transaction): ``result`` negative or positive,
  ``sampled_on`` the day the retest was taken, ``infection`` the case a positive one became (None for a
  negative), ``actor`` who recorded it. keyworkers takes it as a key worker's sample (a positive one makes them
  overdue from its day, as an on-site positive does).
"""
from __future__ import annotations

from typing import Callable

AFTER_BATCH: list[tuple[str, Callable]] = []
AFTER_RETEST: list[tuple[str, Callable]] = []
