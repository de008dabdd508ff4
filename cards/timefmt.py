"""How times read on cards: in the user's time zone, with the zone's name."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def when(start: datetime, zone: ZoneInfo) -> str:
    """'Mon 23 Nov 2026, 14:30'."""
    local = start.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M}"


def span(start: datetime, end: datetime | None, zone: ZoneInfo, all_day: bool = False) -> str:
    """A start and end on one line, the end's date left out when it is the same day."""
    local_start = start.astimezone(zone) if not all_day else start
    if all_day:
        return f"{local_start:%a} {local_start.day} {local_start:%b %Y}, all day"
    if end is None:
        return when(start, zone)
    local_end = end.astimezone(zone)
    if local_end.date() == local_start.date():
        return f"{when(start, zone)} – {local_end:%H:%M}"
    return f"{when(start, zone)} – {when(end, zone)}"


def zone_label(zone: ZoneInfo, at: datetime) -> str:
    """'Europe/Zurich (UTC+01:00)'."""
    offset = at.astimezone(zone).strftime("%z")
    return f"{zone.key} (UTC{offset[:3]}:{offset[3:]})"
