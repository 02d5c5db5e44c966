"""Text a student influences: made safe where it arrives, escaped where it is shown to people.

One module owns the rule. Every string a student can influence (folder names, exception messages,
captured prints, counterexamples, class names in replies) passes through :func:`safe` when it enters
the trusted side, and through :func:`terminal` or :func:`markdown_cell` when it is written for a
person to read.

- ``safe(text, limit)``: any value -> ``str`` that can always be encoded as UTF-8 and carries no
  control characters: lone surrogates (from ``\\udXXX`` escapes in a reply's JSON, or a non-UTF-8 file
  name decoded with ``surrogateescape``) become ``\\udXXX`` as text, control characters other than
  newline and tab (ESC, CR, backspace, BEL, C1 controls such as CSI) and the Unicode
  direction overrides become visible escapes (``\\x1b``, ``\\r``, ``\\u202e``), and the text is cut to
  ``limit`` characters, saying how much was cut. ``safe`` of a safe text is the same text.
- ``safe_tree(obj, limit)``: the same for every string (keys too) of a JSON value.
- ``terminal(text)``: one line for a terminal: ``safe`` and newlines/tabs shown as ``\\n``/``\\t``
  (a name cannot start a forged line).
- ``markdown_cell(text)``: a Markdown table cell (GitHub-flavoured): ``terminal`` plus escaping of
  ``|``, backslash, HTML and emphasis characters, so a folder named ``x | 100 / 100 | graded |``
  stays one cell.
- ``html_text(text)``: text for an HTML page (element content or a quoted attribute value): ``safe``
  plus ``&``, ``<``, ``>`` and both quotes as character references, so ``<script>``,
  ``</textarea>`` or ``" onload="`` in a name or message is shown, never parsed.

Nothing here decides what a student may see; it only makes what is shown harmless.
"""

from __future__ import annotations

import html
import re

__all__ = ["MAX_CHARS", "html_text", "markdown_cell", "safe", "safe_tree", "terminal"]

#: Default cap of one string from a student (exception texts, messages, names); captured output
#: has its own, smaller cap (``output_kb``).
MAX_CHARS = 20_000

# C0 controls except \t and \n, DEL, C1 controls, lone surrogates, bidi marks/embeddings/overrides/
# isolates, zero-width characters, line and paragraph separators, BOM/zero-width no-break space
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e"
    "\u2060-\u2064\u2066-\u2069\ufeff]"
)
_NAMED = {"\r": "\\r", "\x1b": "\\x1b", "\x08": "\\b", "\x07": "\\a", "\x0c": "\\f", "\x0b": "\\v", "\x00": "\\0"}


def _escape(m) -> str:
    ch = m.group()
    named = _NAMED.get(ch)
    if named:
        return named
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text, limit: int | None = MAX_CHARS) -> str:
    """``text`` (any value; ``str()`` of it) made safe to store and show: see the module docstring."""
    if not isinstance(text, str):
        if isinstance(text, (bytes, bytearray)):
            text = bytes(text).decode("utf-8", "backslashreplace")
        else:
            try:
                text = str(text)
            except Exception as e:  # noqa: BLE001 - a value whose __str__ raises is still shown
                text = f"<unprintable {type(text).__name__}: {type(e).__name__}>"
    if limit is not None and len(text) > 4 * limit + 64:
        text = text[: 4 * limit + 64]  # escaping may lengthen; never work on more than needed
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    text = _UNSAFE.sub(_escape, text)
    if limit is not None and len(text) > limit:
        keep = max(limit - 40, 10)
        text = text[:keep].rstrip("\\") + f"... [{len(text) - keep} more characters]"
    return text


def safe_tree(obj, limit: int | None = MAX_CHARS):
    """A JSON value (dicts, lists, strings, numbers) with every string made ``safe``; other values
    are returned as they are. Containers are rebuilt only where a string changed (the usual reply
    holds nothing to change, and is returned as it is)."""
    return _tree(obj, limit)


def json_is_safe(data: bytes, limit: int | None = MAX_CHARS) -> bool:
    """Whether every string of this JSON text is already safe (so ``safe_tree`` of it would change
    nothing): ASCII only, no escape at all (JSON must escape control characters, so none is there),
    no string longer than ``limit``. A quick test in C, for the common reply."""
    if not data.isascii() or b"\\" in data or b"\x7f" in data:  # DEL may stand unescaped in JSON
        return False
    return limit is None or len(data) <= limit or (_LONG_STRING.get(limit) or _long(limit)).search(data) is None


_LONG_STRING = {}


def _long(limit):
    pattern = _LONG_STRING[limit] = re.compile(b'"[^"]{%d,}"' % (limit + 1))
    return pattern


def _tree(obj, limit):
    if isinstance(obj, str):
        if obj.isascii() and obj.isprintable() and (limit is None or len(obj) <= limit):
            return obj  # the common case, fast
        return safe(obj, limit)
    if isinstance(obj, dict):
        out = None
        for i, (k, v) in enumerate(obj.items()):
            k2 = _tree(k, limit) if isinstance(k, str) else k
            v2 = _tree(v, limit) if isinstance(v, (str, dict, list, tuple)) else v
            if out is None and (k2 is not k or v2 is not v):
                out = dict(list(obj.items())[:i])
            if out is not None:
                out[k2] = v2
        return obj if out is None else out
    if isinstance(obj, (list, tuple)):
        items = [_tree(v, limit) if isinstance(v, (str, dict, list, tuple)) else v for v in obj]
        if all(a is b for a, b in zip(items, obj)):
            return obj
        return items if isinstance(obj, list) else tuple(items)
    return obj


def terminal(text, limit: int | None = MAX_CHARS) -> str:
    """One line for a terminal: ``safe`` text with newlines and tabs shown as ``\\n`` and ``\\t``."""
    return safe(text, limit).replace("\n", "\\n").replace("\t", "\\t")


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~&])")


def markdown_cell(text, limit: int | None = 300) -> str:
    """A cell of a GitHub-flavoured Markdown table that shows ``text`` literally, on one line."""
    return _MD_SPECIAL.sub(r"\\\1", terminal(text, limit))


def html_text(text, limit: int | None = MAX_CHARS) -> str:
    """``text`` for an HTML page, as element content or inside a quoted attribute value: ``safe``, then
    ``&``, ``<``, ``>``, ``"`` and ``'`` as character references (nothing in it can open a tag, close
    an element or leave an attribute)."""
    return html.escape(safe(text, limit), quote=True)
