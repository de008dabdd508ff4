"""The user's language on cards: a Translator per locale, from the gettext catalogs in cards/locales.

Card functions take a `Translator` and call `tr("Hello {name}", name=...)` or `tr.plural(...)`; text
chosen far from any request (a use case's refusal) is a `Text`, translated where a card shows it.
Catalogs are the committed .po files, read once per process: a fresh clone needs no compile step.
"""

from __future__ import annotations

import functools
import gettext
import io
from dataclasses import dataclass
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"
# What `pybabel extract` looks for (babel.cfg says the same for the command line).
KEYWORDS = {"tr": None, "plural": (1, 2), "Text": None}


class Text:
    """Words for the user with named values, not yet translated; str() gives the English."""

    __slots__ = ("msgid", "values")

    def __init__(self, msgid: str, **values: object) -> None:
        self.msgid = msgid
        self.values = values

    def __str__(self) -> str:
        return self.msgid.format(**self.values)

    def __repr__(self) -> str:
        return f"Text({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Text) and (self.msgid, self.values) == (other.msgid, other.values)

    def __hash__(self) -> int:
        return hash(self.msgid)


@dataclass(frozen=True)
class Translator:
    """One user's language for words, and their locale (with its region) for dates and times."""

    locale: Locale
    catalog: gettext.NullTranslations

    @property
    def language(self) -> str:
        return self.locale.language

    def __call__(self, msgid: str, **values: object) -> str:
        """The translation of `msgid` with its {named} placeholders filled in."""
        return self.catalog.gettext(msgid).format(**values)

    def plural(self, singular: str, plural: str, count: int, **values: object) -> str:
        """The form for `count` ({count} in the text), by the language's plural rules."""
        return self.catalog.ngettext(singular, plural, count).format(count=count, **values)

    def text(self, text: Text | str) -> str:
        """A Text translated; a plain str (a service's own words) is shown as it is."""
        if isinstance(text, Text):
            return self(text.msgid, **text.values)
        return text


@functools.cache
def available_languages() -> frozenset[str]:
    """The source language and every language with a catalog."""
    found = {p.parent.parent.name for p in LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    return frozenset({SOURCE_LANGUAGE, *found})


@functools.lru_cache(maxsize=256)
def translator_for(user_locale: str | None) -> Translator:
    """The Translator for Google's userLocale ("de", "fr-CA", "en-GB"); unknown or missing is English."""
    locale = _parse(user_locale)
    if locale is None or locale.language == SOURCE_LANGUAGE or locale.language not in available_languages():
        return english()
    return Translator(locale, _catalog(locale.language))


@functools.cache
def english() -> Translator:
    return Translator(Locale.parse(SOURCE_LANGUAGE), gettext.NullTranslations())


def _parse(user_locale: str | None) -> Locale | None:
    """The locale as given, else its language alone ("de-DE-u-co-phonebk" is still German)."""
    tag = (user_locale or "").strip().replace("-", "_")
    for candidate in dict.fromkeys([tag, tag.split("_")[0]]):
        if not candidate:
            continue
        try:
            return Locale.parse(candidate)
        except (UnknownLocaleError, ValueError, TypeError):
            continue
    return None


@functools.cache
def _catalog(language: str) -> gettext.NullTranslations:
    """The language's .po turned into gettext's runtime form in memory; fuzzy entries are left out."""
    path = LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)
