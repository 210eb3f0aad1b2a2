"""What keyworkers gives the apps below it through their hooks: which residents are overdue key workers on a day
(``passes.hooks.OVERDUE``) and the screening results feed (``screening.hooks.AFTER_BATCH``, ``AFTER_RETEST``)."""
from __future__ import annotations

from cordon.keyworkers.actions import do_take_retest, do_take_screening_batch
from cordon.keyworkers.queries import any_key_workers, overdue_among, overdue_exists

__all__ = ["after_retest", "after_screening_batch", "overdue_among", "overdue_exists"]


def after_screening_batch(batch) -> None:
    if any_key_workers():  # else nothing to take, and no savepoint for every tube registered by hand
        do_take_screening_batch(batch)


def after_retest(resident_id, result, sampled_on, infection, actor) -> None:
    do_take_retest(resident_id, result=result, on=sampled_on, infection=infection, actor=actor)
