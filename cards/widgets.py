"""Small typed builders for google.apps.card.v1 widgets, returning plain dicts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any

Json = dict[str, Any]


def card(
    title: str,
    sections: Iterable[Json],
    subtitle: str | None = None,
    name: str | None = None,
    footer: Json | None = None,
) -> Json:
    """A card with a header; `footer` is a button pinned to the bottom."""
    header: Json = {"title": title}
    if subtitle:
        header["subtitle"] = subtitle
    result: Json = {"header": header, "sections": [s for s in sections if s["widgets"]]}
    if name:
        result["name"] = name
    if footer:
        result["fixedFooter"] = {"primaryButton": footer}
    return result


def section(widgets: Iterable[Json], header: str | None = None) -> Json:
    result: Json = {"widgets": list(widgets)}
    if header:
        result["header"] = escape(header)
    return result


def paragraph(html: str) -> Json:
    """Text that may hold the add-on HTML subset; escape any user text before passing it."""
    return {"textParagraph": {"text": html}}


def labeled(
    label: str, text: str, bottom: str | None = None, icon: str | None = None, button: Json | None = None
) -> Json:
    """A decoratedText: a small label above escaped text (no label when `label` is empty). `text` is plain text."""
    widget: Json = {"text": escape(text) or "—", "wrapText": True}
    if label:
        widget["topLabel"] = escape(label)
    if bottom:
        widget["bottomLabel"] = escape(bottom)
    if icon:
        widget["startIcon"] = {"knownIcon": icon}
    if button:
        widget["button"] = button
    return {"decoratedText": widget}


def link_text(label: str, text: str, url: str) -> Json:
    """A decoratedText whose text is a link."""
    html = f'<a href="{escape(url, quote=True)}">{escape(text)}</a>'
    return {"decoratedText": {"topLabel": escape(label), "text": html, "wrapText": True}}


def text_input(name: str, label: str, value: str = "", hint: str | None = None) -> Json:
    widget: Json = {"name": name, "label": label, "type": "SINGLE_LINE", "value": value}
    if hint:
        widget["hintText"] = hint
    return {"textInput": widget}


def checkboxes(name: str, label: str, items: Sequence[tuple[str, str, bool]]) -> Json:
    """One checkbox per (text, value, selected)."""
    return _selection(name, label, "CHECK_BOX", items)


def dropdown(name: str, label: str, items: Sequence[tuple[str, str, bool]]) -> Json:
    return _selection(name, label, "DROPDOWN", items)


def _selection(name: str, label: str, kind: str, items: Sequence[tuple[str, str, bool]]) -> Json:
    return {
        "selectionInput": {
            "name": name,
            "label": label,
            "type": kind,
            "items": [{"text": text, "value": value, "selected": selected} for text, value, selected in items],
        }
    }


def date_time_picker(name: str, label: str, value: datetime) -> Json:
    """A date-time picker showing `value` (timezone-aware) in its own zone."""
    offset = value.utcoffset()
    widget: Json = {
        "name": name,
        "label": label,
        "type": "DATE_AND_TIME",
        "valueMsEpoch": int(value.timestamp() * 1000),
    }
    if offset is not None:
        widget["timezoneOffsetDate"] = int(offset.total_seconds() // 60)
    return {"dateTimePicker": widget}


def divider() -> Json:
    return {"divider": {}}


def button(text: str, on_click: Json) -> Json:
    return {"text": text, "onClick": on_click}


def buttons(*items: Json) -> Json:
    return {"buttonList": {"buttons": list(items)}}


def action(
    function_url: str, parameters: Mapping[str, str] | None = None, spinner: bool = False, required: Sequence[str] = ()
) -> Json:
    """An onClick that POSTs to our endpoint; `spinner` for actions that call outside services."""
    result: Json = {"function": function_url}
    if parameters:
        result["parameters"] = [{"key": k, "value": v} for k, v in parameters.items()]
    if spinner:
        result["loadIndicator"] = "SPINNER"
    if required:
        result["requiredWidgets"] = list(required)
    return {"action": result}


def open_link(url: str, overlay: bool = False, reload_on_close: bool = False) -> Json:
    link: Json = {"url": url}
    if overlay:
        link["openAs"] = "OVERLAY"
    if reload_on_close:
        link["onClose"] = "RELOAD"
    return {"openLink": link}
