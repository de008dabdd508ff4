"""A request's JSON body, read one way for every endpoint: bounded in size and depth, UTF-8, no lone surrogates."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

log = logging.getLogger(__name__)

# Google's event objects nest about six deep. Far deeper is not from Google, and Python's parser
# would recurse once a level until a RecursionError.
MAX_DEPTH = 64

# A JSON string, or an unterminated one up to the end: each byte is looked at once, whatever the body.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*\\?(?:"|\Z)', re.DOTALL)
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
# The only way a lone surrogate gets into UTF-8 JSON text: an escape such as \ud800.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class BadBody(Exception):
    """The body is not JSON the app will read; `reason` is short and safe to send back."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def json_body() -> Any:
    """The request's JSON document; BadBody (logged, never raised past the endpoint) if it is not one."""
    try:
        return _parse(_body())
    except BadBody as error:
        log.warning("refused a request body: %s", error.reason)
        raise


def _body() -> bytes:
    if not request.is_json:
        raise BadBody("the body must be JSON (Content-Type: application/json)")
    try:
        # Werkzeug refuses past MAX_CONTENT_LENGTH (app config) before reading, or as soon as a stream passes it.
        return request.get_data(cache=True)
    except RequestEntityTooLarge as error:
        raise BadBody(f"the body is larger than {request.max_content_length} bytes", 413) from error


def _parse(data: bytes) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadBody("the body is not UTF-8") from error
    if _depth(data) > MAX_DEPTH:
        raise BadBody(f"the body nests deeper than {MAX_DEPTH} levels")
    try:
        document = json.loads(text, parse_constant=_not_json)
    except json.JSONDecodeError as error:
        raise BadBody(f"the body is not JSON: {error.msg} at character {error.pos}") from error
    except ValueError as error:  # NaN and Infinity, or an integer past Python's digit limit
        raise BadBody("the body is not JSON: NaN, Infinity or a number too long to read") from error
    if _SURROGATE_ESCAPE.search(data) and not _all_unicode(document):
        raise BadBody("the body has text that is not Unicode (a lone surrogate escape)")
    return document


def _depth(data: bytes) -> int:
    """How deep the body's arrays and objects nest, counted without parsing it."""
    depth = deepest = 0
    for byte in _STRING.sub(b"", data).translate(None, _NOT_BRACKETS):
        depth += 1 if byte in b"[{" else -1
        if depth > deepest:
            deepest = depth
            if deepest > MAX_DEPTH:
                break
    return deepest


def _all_unicode(document: Any) -> bool:
    """Whether every key and string encodes as UTF-8: what Google's parser, cards and HTTP clients need."""
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(value, dict):
            stack.extend(value)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return True


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not a JSON number")
