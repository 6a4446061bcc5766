"""Text a person types (names, titles, reasons): normalised and checked at the edge, the same on
SQLite and PostgreSQL.

A name is NFC-normalised (so "村1" typed two ways is one village), trimmed, and refused when it holds
a NUL or another control character, an invisible or bidirectional formatting character (a
zero-width space makes two names look the same; U+202E turns "gpj.exe" into "exe.jpg"), or is
longer than its column. PostgreSQL refuses a NUL with an error; SQLite would store it: refusing here
makes both say the same thing, with the field's name.
"""

import unicodedata

from models.errors import BadInput

# Control (Cc), format (Cf: zero-width and bidirectional marks), surrogate (Cs), private use (Co)
# and the line and paragraph separators: nothing a person means to type in a name.
_REFUSED = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}
_ALLOWED_IN_TEXT = {"\n", "\t"}


def problem(value: str, *, max_length: int, multiline: bool = False) -> str | None:
    """What is wrong with ``value`` (already normalised), or None."""
    for char in value:
        if char in _ALLOWED_IN_TEXT and multiline:
            continue
        if unicodedata.category(char) in _REFUSED:
            name = unicodedata.name(char, "a control character")
            return f"contains U+{ord(char):04X} ({name}), which is not allowed"
    if len(value) > max_length:
        return f"is longer than {max_length} characters"
    return None


def normalised(value: str) -> str:
    """NFC, without surrounding blanks."""
    return unicodedata.normalize("NFC", value).strip()


def clean(value: str, *, field: str, max_length: int, multiline: bool = False, required: bool = False) -> str:
    """``value`` normalised, or BadInput naming ``field`` and what is wrong with it."""
    text = normalised(value)
    if required and not text:
        raise BadInput(f"{field}: is empty")
    wrong = problem(text, max_length=max_length, multiline=multiline)
    if wrong is not None:
        raise BadInput(f"{field}: {wrong}")
    return text


def reference(value: str, *, field: str, max_length: int = 200) -> str:
    """A reference someone typed (a code, a name, a phone, an id), normalised; BadInput naming
    ``field`` if it holds what no name can (a NUL, a control character) or is far too long."""
    return clean(value, field=field, max_length=max_length)
