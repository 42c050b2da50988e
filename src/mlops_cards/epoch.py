"""The build's time: `SOURCE_DATE_EPOCH` when set (reproducible builds), else the clock.

One reading for every output that shows a time (note mods, the checklist's cover date): whole
seconds since 1970, ASCII digits only; unset or empty means the clock.
"""

from __future__ import annotations

import os
import re
import time
from datetime import datetime, timezone

from mlops_cards.errors import CardsError
from mlops_cards.limits import MAX_MOD

ENV = "SOURCE_DATE_EPOCH"


def build_time() -> int:
    """Seconds since 1970: `SOURCE_DATE_EPOCH`, else now. A CardsError for any other value."""
    fixed = _fixed()
    return int(time.time()) if fixed is None else fixed


def build_date() -> datetime:
    """`build_time` as a date, in UTC."""
    fixed = _fixed()
    return (
        datetime.now(timezone.utc) if fixed is None else datetime.fromtimestamp(fixed, timezone.utc)
    )


def _fixed() -> int | None:
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return None
    # At most limits.MAX_MOD (year 2106): a note's mod, which the lock must read back.
    if re.fullmatch(r"[0-9]+", raw) and int(raw) <= MAX_MOD:
        try:
            datetime.fromtimestamp(int(raw), timezone.utc)  # within what a date can say
            return int(raw)
        except (ValueError, OverflowError, OSError):
            pass
    raise CardsError(
        f"{ENV}={raw!r} is not a Unix timestamp (set it to whole seconds, "
        "e.g. the last commit's: git log -1 --format=%ct)"
    )
