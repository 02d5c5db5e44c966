"""Reports as plain JSON: the one conversion of grader values (numpy, tuples, paths) to JSON data,
and the JSON text every report and results file is written as."""

from __future__ import annotations

import json
import math
import os

__all__ = ["dumps_json", "dumps_report", "to_jsonable"]


def to_jsonable(obj):
    """A deep copy made of plain JSON types: numpy scalars and arrays become numbers and lists,
    tuples lists, paths strings, and non-finite floats the strings "nan", "inf", "-inf" (JSON has
    no NaN; where the schema wants a number, such a value then fails validation, as it should)."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        f = float(obj)
        return f if math.isfinite(f) else ("nan" if f != f else ("inf" if f > 0 else "-inf"))
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    tolist = getattr(obj, "tolist", None)  # numpy scalar or array, without importing numpy
    if callable(tolist):
        return to_jsonable(tolist())
    raise TypeError(f"not JSON data: {type(obj).__name__}")


def dumps_json(data, indent=2) -> str:
    """JSON text that can always be written as UTF-8, losslessly: non-ASCII characters as they are,
    unless some string holds a lone surrogate (a non-UTF-8 folder name, say), then ``\\u`` escapes."""
    text = json.dumps(data, indent=indent, ensure_ascii=False, allow_nan=False) + "\n"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(data, indent=indent, ensure_ascii=True, allow_nan=False) + "\n"
    return text


def dumps_report(d) -> str:
    """The report as JSON text (the bytes a report file holds)."""
    return dumps_json(to_jsonable(d))
