"""The people on an email, read from its From, To and Cc headers exactly as the email package reads them."""

from __future__ import annotations

from email.utils import getaddresses

import pytest

from addon.google.addresses import addresses

HEADERS = [
    "Alice Example <ALICE@corp.example>, bob@corp.example",
    '"Doe, Jane" <jane.doe@partner.example>',
    '"Chen, Wei (Finance)" <wei.chen@corp.example>, jane.doe@partner.example',
    "Alice   Example   <a@b.c>",
    "Alice\tExample <a@b.c>",
    "Alice Example\r\n <a@b.c>,\r\n bob@b.c",
    "<a@b.c>",
    "Name<a@b.c>",
    '"Doe, Jane"<j@x.example>',
    "  a@b.c  ",
    '"" <a@b.c>',
    '"  Spaced  Name " <a@b.c>',
    '"a <b@c.d>" <e@f.g>',
    "John Q. Public <jq@x.com>",
    "Dr. A. Smith <s@x.com>, . <dot@x.com>, A..B <ab@x.com>",
    "José Müller <jose@x.es>, 李雷 <li@x.cn>",
    "O'Brien <ob@x.ie>, a+tag@x.com, first.last-name@sub.x.example",
    "a..b@c.d, .a@b.c, a.@b.c, A <a@b..c>, a@b",
    "Name\xa0With\xa0NBSP <a@b.c>",
    "\xa0@x.example, .\xa0@x.example, a@b\xa0c",
    # Shapes left to getaddresses: comments, groups, escapes, literals, encoded words, odd or empty items.
    "a@b.c (comment)",
    "undisclosed-recipients:;",
    "Team: a@b.c, d@e.f;",
    '"quoted\\"x" <a@b.c>',
    '"Doe" Jane <a@b.c>',
    "=?utf-8?q?J=C3=B6rg?= <j@x.de>",
    "Name <a@[1.2.3.4]>",
    "A <a@b.c> B",
    "Name <a@b.c",
    "a@b.c,",
    ",a@b.c",
    "a@b.c,,b@c.d",
    "x",
    "",
    "Name <>",
    "a @ b.c",
]


@pytest.mark.parametrize("header", HEADERS)
def test_a_header_reads_as_the_email_package_reads_it(header: str) -> None:
    assert addresses([header]) == getaddresses([header])


def test_several_headers_read_as_one_list() -> None:
    values = ["Alice <a@b.c>", '"Doe, J" <d@e.f>, g@h.i', "a@b.c (comment)"]

    assert addresses(values) == getaddresses(values)
    assert addresses(values[:2]) == getaddresses(values[:2])
    assert addresses([]) == getaddresses([]) == []
