"""Time-of-day and day-of-week windows of a price (peak / off-peak tariffs).

A :class:`TimeWindow` says when a price is in force, in the operator's local time
(``charging.timezone``): from ``start`` to ``end`` minutes after local midnight on the
named weekdays.  A window whose end is not after its start runs past midnight and
belongs to the day it starts on (``22:00-06:00`` on ``fri`` covers Friday night to
Saturday 06:00).  ``00:00-00:00`` is the whole day.

The rating uses :meth:`TimeWindow.next_change` to end a grant where a price changes
(the grant's Validity-Time stops at the boundary), so every unit used under one grant
is rated at the price in force when it was used.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_DAYS = frozenset(range(7))


@dataclass(frozen=True, slots=True)
class TimeWindow:
    start: int                        # minutes after local midnight, 0..1439
    end: int                          # minutes after local midnight (exclusive); <= start: past midnight
    days: frozenset[int] = ALL_DAYS   # weekdays the window starts on, 0 = Monday

    @classmethod
    def parse(cls, hours: str | None, days: str | None) -> TimeWindow:
        """``hours`` as ``HH:MM-HH:MM`` (None: all day), ``days`` as ``mon-fri`` / ``sat,sun`` (None: all)."""
        start, end = (0, 0) if hours is None else _parse_hours(hours)
        return cls(start, end, ALL_DAYS if days is None else _parse_days(days))

    @property
    def hours_text(self) -> str | None:
        if self.start == self.end == 0:
            return None
        return f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"

    @property
    def days_text(self) -> str | None:
        if self.days == ALL_DAYS:
            return None
        return ",".join(DAY_NAMES[d] for d in sorted(self.days))

    def _covers(self, weekday: int, minute: int) -> bool:
        if self.start < self.end:
            return weekday in self.days and self.start <= minute < self.end
        if self.start == self.end:                       # the whole day
            return weekday in self.days
        return (weekday in self.days and minute >= self.start) or \
            ((weekday - 1) % 7 in self.days and minute < self.end)

    def in_force(self, now: int, timezone: str) -> bool:
        return _in_force(self, timezone, now // 60)

    def next_change(self, now: int, timezone: str) -> int | None:
        """The first instant after ``now`` at which :meth:`in_force` changes; None if it never does."""
        if self.start == self.end and self.days == ALL_DAYS:
            return None
        return _next_change(self, timezone, now // 60)


# Both answers are the same for every second of a minute (windows are in whole minutes), so they are
# remembered per (window, zone, minute): under load every request of a minute shares one computation.
@lru_cache(maxsize=4096)
def _in_force(window: TimeWindow, timezone: str, minute: int) -> bool:
    local = datetime.fromtimestamp(minute * 60, _zone(timezone))
    return window._covers(local.weekday(), local.hour * 60 + local.minute)


@lru_cache(maxsize=4096)
def _next_change(window: TimeWindow, timezone: str, minute: int) -> int | None:
    now = minute * 60
    zone = _zone(timezone)
    local = datetime.fromtimestamp(now, zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    state = _in_force(window, timezone, minute)
    for day in range(0, 9):
        base = midnight + timedelta(days=day)
        for m in sorted({window.start, window.end, 0}):
            naive = base.replace(tzinfo=None) + timedelta(minutes=m)
            at = int(naive.replace(tzinfo=zone).timestamp())
            if at > now and _in_force(window, timezone, at // 60) != state:
                return at
    return None


@lru_cache(maxsize=64)
def _zone(name: str) -> tzinfo:
    return UTC if name == "UTC" else ZoneInfo(name)


def _parse_hours(text: str) -> tuple[int, int]:
    parts = text.strip().split("-")
    if len(parts) != 2:
        raise ValueError(f"time_of_day {text!r}: use HH:MM-HH:MM (local time, e.g. 08:00-20:00)")
    return _minute(parts[0], text), _minute(parts[1], text)


def _minute(part: str, text: str) -> int:
    hm = part.strip().split(":")
    if len(hm) != 2 or not all(x.isascii() and x.isdigit() and len(x) == 2 for x in hm):
        raise ValueError(f"time_of_day {text!r}: use HH:MM-HH:MM (local time, e.g. 08:00-20:00)")
    h, m = int(hm[0]), int(hm[1])
    if h == 24 and m == 0:
        return 0
    if h > 23 or m > 59:
        raise ValueError(f"time_of_day {text!r}: hours 00-23, minutes 00-59")
    return h * 60 + m


def _parse_days(text: str) -> frozenset[int]:
    days: set[int] = set()
    for part in text.replace(";", ",").split(","):
        part = part.strip().lower()
        if not part:
            continue
        if "-" in part:
            a, b = (p.strip()[:3] for p in part.split("-", 1))
            if a not in DAY_NAMES or b not in DAY_NAMES:
                raise ValueError(f"days {text!r}: use mon, tue, wed, thu, fri, sat, sun or ranges (mon-fri)")
            i, j = DAY_NAMES.index(a), DAY_NAMES.index(b)
            while True:
                days.add(i)
                if i == j:
                    break
                i = (i + 1) % 7
        else:
            if part[:3] not in DAY_NAMES:
                raise ValueError(f"days {text!r}: use mon, tue, wed, thu, fri, sat, sun or ranges (mon-fri)")
            days.add(DAY_NAMES.index(part[:3]))
    if not days:
        raise ValueError(f"days {text!r}: name at least one day")
    return frozenset(days)
