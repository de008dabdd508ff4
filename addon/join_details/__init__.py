"""A meeting's join details on its calendar event: the fields (fields.py) and their writer (writer.py)."""

from addon.join_details.fields import (
    BLOCK_END,
    BLOCK_START,
    EVENT_PROPERTY,
    MEETING_PROPERTY,
    PROVIDER_PROPERTY,
    ConferenceSupport,
    conference_data,
    conference_kept,
    details_block,
    event_fields,
    fields_taking_off,
    shows_meeting,
    with_details,
    without_details,
)

__all__ = [
    "BLOCK_END",
    "BLOCK_START",
    "EVENT_PROPERTY",
    "MEETING_PROPERTY",
    "PROVIDER_PROPERTY",
    "ConferenceSupport",
    "conference_data",
    "conference_kept",
    "details_block",
    "event_fields",
    "fields_taking_off",
    "shows_meeting",
    "with_details",
    "without_details",
]
