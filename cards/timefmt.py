"""How times read on cards: in the user's time zone and language, with the zone's name."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_skeleton, format_time, get_timezone_gmt, get_timezone_name

from cards.i18n import Translator


def when(start: datetime, zone: ZoneInfo, tr: Translator) -> str:
    """'Mon 23 Nov 2026, 14:30'; 'Mo., 23. Nov. 2026, 14:30' in German."""
    local = start.astimezone(zone)
    return _date_time(_date(local, tr), _time(local, tr), tr)


def span(start: datetime, end: datetime | None, zone: ZoneInfo, tr: Translator, all_day: bool = False) -> str:
    """A start and end on one line, the end's date left out when it is the same day."""
    if all_day:
        return tr("{date}, all day", date=_date(start, tr))
    if end is None:
        return when(start, zone, tr)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    if local_end.date() == local_start.date():
        return f"{when(start, zone, tr)} – {_time(local_end, tr)}"
    return f"{when(start, zone, tr)} – {when(end, zone, tr)}"


def zone_label(zone: ZoneInfo, at: datetime, tr: Translator) -> str:
    """'Europe/Zurich (UTC+01:00)'; 'Mitteleuropäische Normalzeit (GMT+01:00)' in German."""
    local = at.astimezone(zone)
    if _house_style(tr):
        offset = local.strftime("%z")
        return f"{zone.key} (UTC{offset[:3]}:{offset[3:]})"
    name, offset = get_timezone_name(local, "long", locale=tr.locale), get_timezone_gmt(local, locale=tr.locale)
    # A zone CLDR has no name for is named by its offset; say it once.
    return offset if name == offset else f"{name} ({offset})"


def minutes(tr: Translator, count: int) -> str:
    """A length: '30 minutes'."""
    return tr.plural("{count} minute", "{count} minutes", count)


# English keeps the add-on's own format (24-hour, day before month, whatever the region);
# other languages read as CLDR writes them for the user's region.
def _house_style(tr: Translator) -> bool:
    return tr.language == "en"


def _date(local: datetime, tr: Translator) -> str:
    if _house_style(tr):
        return format_datetime(local, "EEE d MMM y", locale=tr.locale)
    return format_skeleton("yMMMEd", local, locale=tr.locale)


def _time(local: datetime, tr: Translator) -> str:
    if _house_style(tr):
        return format_datetime(local, "HH:mm", locale=tr.locale)
    return format_time(local, "short", locale=tr.locale)


def _date_time(date: str, time: str, tr: Translator) -> str:
    if _house_style(tr):
        return f"{date}, {time}"
    return tr.locale.datetime_formats["medium"].format(time, date)
