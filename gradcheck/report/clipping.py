"""Long texts cut to a readable length, always saying what was left out.

Student text (messages, tracebacks, prints) can be any length; everything shown to people goes
through ``clip`` (one line or value) or ``clip_block`` (many lines: the head and the tail kept).
"""

from __future__ import annotations

__all__ = ["clip", "clip_block", "clip_detail", "clip_lines"]


def clip(text, limit: int = 300) -> str:
    """text cut to about limit characters, saying how much was cut."""
    text = str(text)
    if len(text) <= limit:
        return text
    keep = max(limit - 30, 10)
    return text[:keep] + f"... [{len(text) - keep} more characters]"


def clip_lines(text, max_lines=20, max_chars=2000, line_chars=300) -> list:
    """Lines of a long text: the head and the tail (where a traceback says what happened)."""
    lines = [clip(ln, line_chars) for ln in str(text).splitlines()]
    if len(lines) > max_lines:
        head, tail = max_lines // 3, max_lines - max_lines // 3 - 1
        lines = lines[:head] + [f"... [{len(lines) - head - tail} lines omitted]"] + lines[-tail:]
    out, used = [], 0
    for ln in lines:
        if used + len(ln) > max_chars:
            out.append("... [output truncated]")
            break
        out.append(ln)
        used += len(ln)
    return out


def clip_block(text, max_lines=40, max_chars=4000) -> str:
    """A long multi-line text (a traceback, captured prints) cut to its head and tail, every line
    and the whole clipped, saying what was left out."""
    return "\n".join(clip_lines(text, max_lines=max_lines, max_chars=max_chars))


def clip_detail(value, limit=1000):
    """A check's details with every string clipped and every list cut to 50 items."""
    if isinstance(value, str):
        return clip(value, limit)
    if isinstance(value, dict):
        return {k: clip_detail(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [clip_detail(v, limit) for v in value[:50]]
    return value
