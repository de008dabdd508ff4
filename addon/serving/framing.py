"""Whether a request has arrived whole: its head, then its Content-Length or chunked body, within limits."""

from __future__ import annotations

HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")
# The codings gunicorn knows; with any other it refuses the request, so there is no body to wait for.
KNOWN_CODINGS = frozenset((b"chunked", b"identity", b"gzip", b"deflate", b"compress"))
MAX_CHUNK_LINE = 4096
MAX_LENGTH_DIGITS = 18


class RequestRefused(Exception):
    """A request too large to read further, to be answered `status` at once."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class RequestFraming:
    """Follows one request's framing as its bytes arrive, to tell when all of it is here.

    It only finds where the request ends: gunicorn's parser still parses it and refuses what is malformed. So a
    request this cannot frame counts as whole at the end of its head, for the parser to see and refuse at once.
    """

    def __init__(self, *, max_head: int, max_body: int) -> None:
        self.max_head = max_head
        self.max_body = max_body
        self._head_end: int | None = None
        self.expects_continue = False
        self._searched = 0
        self._length: int | None = None  # of the whole request, head included, when it has a Content-Length
        self._chunk_at = 0  # where the next chunk's size line starts, in a chunked body
        self._chunked = 0  # the body's bytes in the chunks read so far

    def complete(self, data: bytes | bytearray) -> bool:
        """Whether `data`, everything received since the request began, holds all of it; raises RequestRefused."""
        if self._head_end is None and not self._read_head(data):
            return False
        if self._length is not None:
            return len(data) >= self._length
        return self._read_chunks(data)

    def _read_head(self, data: bytes | bytearray) -> bool:
        end = data.find(b"\r\n\r\n", max(self._searched - 3, 0))
        head = data if end < 0 else data[:end]
        if head.count(b"\n") != head.count(b"\r\n"):
            self._head_end = self._length = len(data)  # a bare LF: the parser refuses it
            return True
        if end < 0:
            if len(data) > self.max_head:
                raise RequestRefused(431)
            self._searched = len(data)
            return False
        self._head_end = end + 4
        self._frame(bytes(head).removeprefix(b"\r\n").split(b"\r\n"), self._head_end)
        return True

    def _frame(self, lines: list[bytes], head_end: int) -> None:
        """The body's framing from the head's lines: a length, chunks, or none."""
        http_11 = lines[0].endswith(b" HTTP/1.1")
        lengths: list[bytes] = []
        codings: list[bytes] = []
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip()
            if name == b"content-length":
                lengths.append(value)
            elif name == b"transfer-encoding":
                codings += [coding.strip().lower() for coding in value.split(b",")]
            elif name == b"expect":
                self.expects_continue = http_11 and value.lower() == b"100-continue"
        if codings:
            chunked = http_11 and not lengths and codings[-1] == b"chunked" and codings.count(b"chunked") == 1
            if chunked and KNOWN_CODINGS.issuperset(codings):
                self._chunk_at = head_end
            else:
                self._length = head_end
        elif len(lengths) == 1 and lengths[0].isdigit():
            if len(lengths[0]) > MAX_LENGTH_DIGITS or int(lengths[0]) > self.max_body:
                raise RequestRefused(413)
            self._length = head_end + int(lengths[0])
        else:
            self._length = head_end  # no body, or lengths the parser refuses

    def _read_chunks(self, data: bytes | bytearray) -> bool:
        """Past the chunks read so far; each call reads only what arrived since the last."""
        while True:
            at = self._chunk_at
            line_end = data.find(b"\r\n", at, at + MAX_CHUNK_LINE)
            if line_end < 0:
                return len(data) - at >= MAX_CHUNK_LINE  # a size line too long: the parser refuses it
            digits = bytes(data[at:line_end]).split(b";", 1)[0].strip()
            if not digits or len(digits) > 16 or not HEX_DIGITS.issuperset(digits):
                return True  # not a chunk size: the parser refuses it
            size = int(digits, 16)
            if size == 0:
                return self._trailers_end(data, line_end + 2)
            next_at = line_end + 2 + size + 2
            # Tiny chunks multiply the bytes on the wire; those count too.
            if self._chunked + size > self.max_body or next_at > 2 * self.max_body + self.max_head:
                raise RequestRefused(413)
            if len(data) < next_at:
                return False
            if data[next_at - 2 : next_at] != b"\r\n":
                return True
            self._chunked += size
            self._chunk_at = next_at

    def _trailers_end(self, data: bytes | bytearray, start: int) -> bool:
        """Whether the trailer section after the last chunk has ended: an empty line, or fields then one."""
        if len(data) < start + 2:
            return False
        if data[start : start + 2] == b"\r\n" or data.find(b"\r\n\r\n", start) >= 0:
            return True
        if len(data) - start > self.max_head:
            raise RequestRefused(431)
        return False
