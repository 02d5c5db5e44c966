"""Reports: validate, write atomically, show to a student, summarize a class.

A report is the plain dict of docs/design.md, validated against ``report.schema.json``. Only the
trusted grader writes reports, and only after validation; every write goes to a temporary file in
the same directory and is moved into place with ``os.replace`` (a reader never sees half a file).

What a student sees is ``student_view(report)``: the checks their assignment's visibility allows,
with the other checks reduced to placeholders that carry no status, score, message or details.
``render_feedback`` turns a report or a view into text.
"""
from __future__ import annotations

import copy
import csv
import functools
import hashlib
import io
import json
import math
import os
import re
import statistics
import tempfile
from pathlib import Path

import jsonschema

from . import text as _text

__all__ = [
    "CHECK_STATUSES", "ReportError", "SCHEMA_VERSION", "SUMMARY_JSON", "GRADEBOOK_CSV",
    "class_summary", "csv_safe", "display_name", "dumps_report", "error_report", "exclusive_write_text", "gradcheck_version",
    "is_shown", "name_from_safe",
    "render_feedback", "report_path", "report_schema", "safe_name", "student_view", "summary_row",
    "to_jsonable", "validate_report", "write_report", "write_summary", "atomic_write_text", "clip",
    "gradebook_csv", "WITHHELD_MESSAGES", "check_detail_lines", "clip_block", "ERROR_CHECK_MESSAGE", "dumps_json",
]

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).resolve().with_name("report.schema.json")
CHECK_STATUSES = ("pass", "fail", "error", "timeout", "missing")
SUMMARY_JSON = "summary.json"
GRADEBOOK_CSV = "gradebook.csv"
_RESERVED_STEMS = {"summary", "gradebook"}  # submission ids that would clash with the class files

#: What a student sees instead of a check the assignment does not show them yet.
WITHHELD_MESSAGES = {
    "hidden": "hidden check: its result is not shown to students",
    "after_due_date": "result shown after the due date",
    "after_published": "result shown when grades are published",
}
ERROR_CHECK_MESSAGE = "not graded: the grader could not grade this submission"


class ReportError(ValueError):
    """A report that does not follow the report contract (a grader bug, never a student's fault)."""


def gradcheck_version() -> str:
    try:
        from importlib.metadata import version
        return version("gradcheck")
    except Exception:  # not installed (running from a source tree)
        return "0.1.0"


@functools.lru_cache(maxsize=None)
def _schema_text() -> str:
    return SCHEMA_PATH.read_text(encoding="utf-8")


def report_schema() -> dict:
    """The report's JSON Schema (a fresh copy)."""
    return json.loads(_schema_text())


@functools.lru_cache(maxsize=None)
def _validator():
    schema = report_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


# --- plain JSON -----------------------------------------------------------------------------------

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


# --- validation -----------------------------------------------------------------------------------

def _where(parts) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def _close(a, b) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def validate_report(d) -> None:
    """Raise ReportError (naming the submission and the field) unless d follows the report contract.

    Beyond the schema: check ids are unique, each check's score is within [0, max_score], and the
    report's score and max_score are the sums over its checks."""
    name = d.get("submission") if isinstance(d, dict) else None
    who = f"report for {name!r}" if isinstance(name, str) else "report"
    errors = sorted(_validator().iter_errors(d), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        lines = [f"{_where(e.absolute_path)}: {e.message}" for e in errors[:10]]
        more = f"\n  ... and {len(errors) - 10} more" if len(errors) > 10 else ""
        raise ReportError(f"invalid {who}:\n  " + "\n  ".join(lines) + more)
    problems, seen = [], set()
    for i, c in enumerate(d["checks"]):
        if c["id"] in seen:
            problems.append(f"checks[{i}].id: {c['id']!r} appears twice")
        seen.add(c["id"])
        if c["score"] > c["max_score"] and not _close(c["score"], c["max_score"]):
            problems.append(f"checks[{i}].score: {c['score']} is more than max_score {c['max_score']}")
    total = sum(c["score"] for c in d["checks"])
    top = sum(c["max_score"] for c in d["checks"])
    if not _close(d["score"], total):
        problems.append(f"score: {d['score']} is not the sum of the checks' scores ({total})")
    if not _close(d["max_score"], top):
        problems.append(f"max_score: {d['max_score']} is not the sum of the checks' max_score ({top})")
    if problems:
        raise ReportError(f"invalid {who}:\n  " + "\n  ".join(problems))


# --- files ----------------------------------------------------------------------------------------

def display_name(name) -> str:
    """A submission folder's name as text (reports, the gradebook, JUnit): the name itself when it is
    UTF-8 without a backslash; otherwise backslashes are doubled and bytes that are not UTF-8 shown as
    \\xNN. So two folder names never share a display name (``caf\\xe9`` is a folder whose name is
    not UTF-8; a folder literally named that shows as ``caf\\\\xe9``). The report file's name keeps
    the exact bytes (``safe_name``)."""
    raw = os.fsencode(name)
    try:
        text = raw.decode("utf-8")
        if "\\" not in text:
            return text
    except UnicodeDecodeError:
        pass
    return raw.replace(b"\\", b"\\\\").decode("utf-8", "backslashreplace")


_SAFE_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
_NAME_MAX = 120  # stems of at most this many characters (a report file name stays far below 255 bytes)


def safe_name(submission) -> str:
    """The file name stem of a submission's report: one reversible scheme for every name.

    The name's bytes (``os.fsencode``: a folder name that is not UTF-8 keeps its exact bytes) are
    kept when they are letters, digits, '.', '_' or '-', and written ``=XX`` (hex) otherwise; a
    leading '.' and the stems of the class files (summary, gradebook) are escaped the same way. So
    ``John Smith`` is ``John=20Smith`` and ``John_Smith-ef61a579`` stays itself: two names never share
    a stem, and ``name_from_safe`` gives the folder name back. Only a stem longer than 120
    characters is shortened (its first 103 characters, '-', 16 hex digits of its SHA-256: exactly
    120, a length no unshortened stem has); the batch creates report files exclusively, so even
    then two submissions never share a file."""
    raw = os.fsencode(submission)
    out = []
    for i, b in enumerate(raw):
        if b in _SAFE_BYTES and b != 0x3D and not (i == 0 and b == 0x2E):
            out.append(chr(b))
        else:
            out.append(f"={b:02X}")
    stem = "".join(out)
    if not stem or stem.lower() in _RESERVED_STEMS:
        stem = (f"={raw[0]:02X}" + stem[1:]) if stem else "="
    if len(stem) >= _NAME_MAX:
        stem = f"{stem[:_NAME_MAX - 17]}-{hashlib.sha256(raw).hexdigest()[:16]}"
    return stem


def name_from_safe(stem: str) -> str:
    """The submission folder name a report stem was made from (``safe_name`` reversed); a
    shortened stem (exactly 120 characters) cannot be reversed: ValueError."""
    if len(stem) >= _NAME_MAX:
        raise ValueError(f"{stem[:20]}...: a shortened report name cannot be reversed")
    if stem == "=":
        return ""
    raw, i = bytearray(), 0
    while i < len(stem):
        if stem[i] == "=":
            raw.append(int(stem[i + 1:i + 3], 16))
            i += 3
        else:
            raw += stem[i].encode("ascii")
            i += 1
    return os.fsdecode(bytes(raw))


def report_path(out_dir, submission) -> Path:
    return Path(out_dir) / f"{safe_name(submission)}.json"


def _write_temp(directory, name, text):
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    try:
        # errors: a lone surrogate (a name that is not UTF-8) is written as the JSON escape \\udcXX
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return tmp


def atomic_write_text(path, text: str) -> Path:
    """Write text to path atomically: a temporary file in the same directory, fsync, os.replace."""
    path = Path(path)
    tmp = _write_temp(path.parent, path.name, text)
    try:
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def exclusive_write_text(path, text: str, may_replace=None) -> Path:
    """Create ``path`` holding ``text``, atomically and exclusively: a complete temporary file is
    hard-linked to ``path``, which fails when ``path`` exists (FileExistsError), like O_EXCL. Never
    an overwrite, unless ``may_replace(os.lstat(path))`` says that the existing file may go (a report
    of an earlier run); then it is replaced atomically."""
    path = Path(path)
    tmp = _write_temp(path.parent, path.name, text)
    try:
        try:
            os.link(tmp, path, follow_symlinks=False)
        except FileExistsError:
            if may_replace is None or not may_replace(os.lstat(path)):
                raise
            os.replace(tmp, path)
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    return path


def write_report(d, out_dir) -> Path:
    """Validate the report and write it atomically as OUT_DIR/<submission>.json; returns the path.
    Raises ReportError for an invalid report (nothing is written), OSError when the file cannot be
    written."""
    plain = to_jsonable(d)
    validate_report(plain)
    return atomic_write_text(report_path(out_dir, plain["submission"]), dumps_report(plain))


def error_report(submission, assignment, seed, message, *, modules=None, isolation=None, output=None,
                 seconds=None) -> dict:
    """The report of a submission the grader could not grade: status "error", every check of the
    assignment listed with status "error" and score 0 (so the gradebook still has the row)."""
    report = {
        "schema_version": SCHEMA_VERSION, "gradcheck_version": gradcheck_version(),
        "submission": str(submission), "assignment": assignment.name, "seed": int(seed),
        "status": "error", "message": str(message) or "the grader failed",
        "score": 0.0, "max_score": assignment.max_score,
        "checks": [{"id": c.id, "status": "error", "score": 0.0, "max_score": float(c.points),
                    "visibility": c.visibility, "message": ERROR_CHECK_MESSAGE} for c in assignment.checks],
    }
    if modules is not None:
        report["modules"] = modules
    if isolation is not None:
        report["isolation"] = isolation
    if output is not None:
        report["output"] = output
    if seconds is not None:
        report["timing"] = {"seconds": round(float(seconds), 3)}
    return report


# --- what a student sees --------------------------------------------------------------------------

def is_shown(visibility, now_due=False, published=False) -> bool:
    """Whether a check of this visibility is shown to a student: visible always, after_due_date once
    due, after_published once published, hidden never (nor anything unknown or missing)."""
    return (visibility == "visible" or (visibility == "after_due_date" and now_due)
            or (visibility == "after_published" and published))


def clip(text, limit: int = 300) -> str:
    """text cut to about limit characters, saying how much was cut."""
    text = str(text)
    if len(text) <= limit:
        return text
    keep = max(limit - 30, 10)
    return text[:keep] + f"... [{len(text) - keep} more characters]"


def _clip_lines(text, max_lines=20, max_chars=2000, line_chars=300) -> list:
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


def _clip_detail(value, limit=1000):
    if isinstance(value, str):
        return clip(value, limit)
    if isinstance(value, dict):
        return {k: _clip_detail(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [_clip_detail(v, limit) for v in value[:50]]
    return value


def student_view(report, now_due=False, published=False) -> dict:
    """What the student may see of a report.

    Checks the visibility allows keep status, score, message and details (long text clipped). Any
    other check becomes a placeholder ``{"id", "visibility", "max_score", "withheld": true,
    "message"}`` with no status, score or details, so nothing of a hidden check's inputs, expected
    values or counterexamples can leak. ``score``/``max_score`` of the view count the shown checks
    only; ``withheld`` says how many checks and points are not shown. The captured output of the
    student's code is left out while any check is withheld (code may print a hidden check's inputs),
    and so is the report's summary message of a graded report (it may count the withheld checks).
    A check without a visibility counts as hidden."""
    view = {k: copy.deepcopy(report[k]) for k in ("schema_version", "gradcheck_version", "submission",
                                                    "assignment", "seed", "status") if k in report}
    view["view"] = {"student": True, "now_due": bool(now_due), "published": bool(published)}
    checks, score, max_score, n_withheld, pts_withheld = [], 0.0, 0.0, 0, 0.0
    for c in report.get("checks", []):
        vis = c.get("visibility", "hidden")
        if is_shown(vis, now_due, published):
            item = {k: copy.deepcopy(c[k]) for k in ("id", "status", "score", "max_score", "visibility", "message")
                    if k in c}
            if "message" in item:
                item["message"] = clip(item["message"], 1000)
            if c.get("details"):
                item["details"] = _clip_detail(copy.deepcopy(c["details"]))
            checks.append(item)
            score += float(c.get("score", 0.0))
            max_score += float(c.get("max_score", 0.0))
        else:
            checks.append({"id": c.get("id", "?"), "visibility": vis if vis in WITHHELD_MESSAGES else "hidden",
                           "max_score": float(c.get("max_score", 0.0)), "withheld": True,
                           "message": WITHHELD_MESSAGES.get(vis, WITHHELD_MESSAGES["hidden"])})
            n_withheld += 1
            pts_withheld += float(c.get("max_score", 0.0))
    # the report's own message may sum up every check ("77 of 79 checks passed"): kept only when it
    # cannot tell anything about a withheld check, or when it says why grading failed
    if "message" in report and (n_withheld == 0 or report.get("status") == "error"):
        view["message"] = clip(report["message"], 1000)
    view["score"] = round(score, 6)
    view["max_score"] = round(max_score, 6)
    view["withheld"] = {"checks": n_withheld, "max_score": round(pts_withheld, 6)}
    view["checks"] = checks
    if "modules" in report:
        view["modules"] = {name: {k: ("\n".join(_clip_lines(v, max_lines=30, max_chars=3000)) if isinstance(v, str)
                                      else v) for k, v in m.items() if k in ("ok", "error")}
                           for name, m in report["modules"].items()}
    out = report.get("output")
    if isinstance(out, dict):
        if n_withheld:   # not even its size: code may print while a withheld check runs
            view["output"] = {"withheld": True}
        else:
            text = "\n".join(_clip_lines(out.get("text", ""), max_lines=40, max_chars=4000))
            view["output"] = {"text": text, "bytes": out.get("bytes", 0),
                              "truncated": bool(out.get("truncated")) or text != out.get("text", "")}
    seconds = student_seconds(report, withheld=bool(n_withheld))
    if seconds is not None:
        view["timing"] = {"seconds": seconds}
    return view


def student_seconds(report, withheld=True):
    """The grading time a student may see: while checks are withheld, only the time the visible
    checks took (they run first; what the student's code does during a withheld check could
    otherwise be read from the total)."""
    timing = report.get("timing") or {}
    key = "visible_seconds" if withheld else "seconds"
    value = timing.get(key)
    return value if isinstance(value, (int, float)) else None


def _pts(x) -> str:
    try:
        return f"{float(x):g}"
    except (TypeError, ValueError):
        return "?"


_MARKS = {"pass": "PASS", "fail": "FAIL", "error": "ERROR", "timeout": "TIMEOUT", "missing": "MISSING"}


def _worst_line(w) -> str | None:
    if not isinstance(w, dict):
        return None
    where = str(w.get("input", ""))
    if w.get("index") not in (None, []):
        where += "[" + ", ".join(map(str, w["index"])) + "]"
    parts = []
    if "expected" in w:
        parts.append(f"expected {w['expected']}")
    if "got" in w:
        parts.append(f"got {w['got']}")
    text = ", ".join(parts)
    if w.get("rel_error") is not None:
        text += f" (relative error {w['rel_error']:.3g})" if isinstance(w["rel_error"], (int, float)) \
            else f" (relative error {w['rel_error']})"
    return clip(f"{where}: {text}" if where else text, 300) if text else None


def check_detail_lines(check) -> list:
    """The lines that explain a check's verdict beneath its message: diagnosis, counterexample,
    blame and the worst error, each on one line and clipped (empty when the check has no details,
    e.g. a withheld placeholder of a student view)."""
    details = check.get("details") if isinstance(check, dict) else None
    lines = []
    if isinstance(details, dict):
        for key in ("diagnosis", "counterexample", "blame"):
            if details.get(key):
                lines.append(f"{key}: {clip(' '.join(str(details[key]).split()), 500)}")
        worst = _worst_line(details.get("worst"))
        if worst:
            lines.append(f"worst: {worst}")
    return lines


def clip_block(text, max_lines=40, max_chars=4000) -> str:
    """A long multi-line text (a traceback, captured prints) cut to its head and tail, every line
    and the whole clipped, saying what was left out."""
    return "\n".join(_clip_lines(text, max_lines=max_lines, max_chars=max_chars))


def render_feedback(report_or_view) -> str:
    """Text for a human: header with the score, one line per check (status mark, id, points,
    message) with diagnosis, counterexample, worst error and blame beneath when present, import
    errors and captured output, all clipped to a readable length."""
    r = report_or_view
    lines = []
    head = (f"gradcheck: {_text.terminal(r.get('submission', '?'), 200)} - assignment "
            f"{_text.terminal(r.get('assignment', '?'), 200)} (seed {_text.terminal(r.get('seed', '?'), 40)})")
    lines.append(head)
    lines.append(f"Score: {_pts(r.get('score'))} / {_pts(r.get('max_score'))}")
    withheld = r.get("withheld") or {}
    if withheld.get("checks"):
        lines.append(f"Not shown yet: {withheld['checks']} check(s) worth {_pts(withheld.get('max_score'))} "
                     "point(s); they count in your final grade.")
    if r.get("status") == "error":
        lines.append("Grading failed: " + clip(r.get("message", ""), 500))
        lines.append("No points could be given for this run; tell your instructor.")
    elif r.get("message"):
        lines.append(clip(r["message"], 500))
    for name, m in (r.get("modules") or {}).items():
        if isinstance(m, dict) and not m.get("ok", True):
            lines.append(f"{name}.py could not be imported:")
            lines.extend("    " + ln for ln in _clip_lines(m.get("error", ""), max_lines=12, max_chars=1500))
    lines.append("")
    checks = r.get("checks", [])
    not_graded = [c for c in checks if c.get("status") == "error" and c.get("message") == ERROR_CHECK_MESSAGE]
    if r.get("status") == "error" and not_graded:  # one line, not one per check
        lines.append(f"  {'ERROR':<8} {len(not_graded)} check(s) worth "
                     f"{_pts(sum(float(c.get('max_score', 0)) for c in not_graded))} point(s): not graded")
        checks = [c for c in checks if c not in not_graded]
    width = min(max((len(str(c.get("id", ""))) for c in checks), default=10), 48)
    counts = {}
    for c in checks:
        if c.get("withheld"):
            mark, pts = "-", f"?/{_pts(c.get('max_score'))}"
            counts["not shown"] = counts.get("not shown", 0) + 1
        else:
            status = c.get("status", "?")
            mark = _MARKS.get(status, str(status).upper())
            pts = f"{_pts(c.get('score'))}/{_pts(c.get('max_score'))}"
            counts[status] = counts.get(status, 0) + 1
        cid = _text.terminal(c.get("id", "?"), 200)
        tag = "" if c.get("withheld") or c.get("visibility", "visible") == "visible" else f" ({c['visibility']})"
        msg = clip(" ".join(str(c.get("message", "")).split()), 300) if c.get("message") else ""
        lines.append(f"  {mark:<8} {cid:<{width}} {pts:>8}  {msg}{tag}".rstrip())
        lines.extend(f"  {'':<8} {ln}" for ln in check_detail_lines(c))
    lines.append("")
    if not_graded and r.get("status") == "error":
        counts["error"] = counts.get("error", 0) + len(not_graded)
    order = [s for s in CHECK_STATUSES if s in counts] + [s for s in counts if s not in CHECK_STATUSES]
    lines.append("Checks: " + ", ".join(f"{counts[s]} {_MARKS.get(s, s).lower()}" for s in order))
    out = r.get("output")
    if isinstance(out, dict):
        if out.get("withheld") and out.get("bytes"):
            lines.append(f"Your code printed {out['bytes']} bytes; not shown while some checks are hidden.")
        elif out.get("text"):
            cut = " (truncated)" if out.get("truncated") else ""
            lines.append(f"Your code printed{cut}:")
            lines.extend("  | " + ln for ln in _clip_lines(out["text"], max_lines=40, max_chars=4000))
    # whatever a student controlled in there (names, messages, prints): no control character reaches
    # the reader's terminal
    return _text.safe("\n".join(lines), None) + "\n"


# --- class summary --------------------------------------------------------------------------------

def summary_row(report, report_file=None, seconds=None) -> dict:
    """The little the batch keeps of a report: enough for summary.json, the gradebook and the
    progress line."""
    row = {"submission": report["submission"], "status": report["status"], "score": float(report["score"]),
           "max_score": float(report["max_score"]),
           "checks": {c["id"]: {"status": c["status"], "score": float(c["score"]), "max_score": float(c["max_score"])}
                      for c in report["checks"]}}
    if report["status"] == "error":
        row["message"] = clip(report.get("message", ""), 500)
    if report_file is not None:
        row["report"] = Path(report_file).name
    if seconds is not None:
        row["seconds"] = round(float(seconds), 3)
    return row


def _round(x):
    return None if x is None else round(float(x), 6)


def _check_ids(rows, assignment):
    if assignment is not None:
        return list(assignment.check_ids)
    return list(dict.fromkeys(cid for r in rows for cid in r.get("checks", {})))


def class_summary(rows, *, assignment=None, seed=None) -> dict:
    """The content of summary.json. Statistics are over the graded submissions (status "graded");
    submissions with status "error" are counted apart (their score 0 would skew the mean)."""
    rows = sorted(rows, key=lambda r: r["submission"])
    ids = _check_ids(rows, assignment)
    graded = [r for r in rows if r["status"] == "graded"]
    scores = [float(r["score"]) for r in graded]
    stats = {"count": len(rows), "graded": len(graded), "errors": len(rows) - len(graded),
             "mean": _round(statistics.fmean(scores)) if scores else None,
             "median": _round(statistics.median(scores)) if scores else None,
             "min": _round(min(scores)) if scores else None, "max": _round(max(scores)) if scores else None}
    per_check = {}
    for cid in ids:
        results = [r["checks"][cid] for r in graded if cid in r.get("checks", {})]
        spec = assignment.check(cid) if assignment is not None else None
        maxes = [c["max_score"] for r in rows for c in [r.get("checks", {}).get(cid)] if c and "max_score" in c]
        max_score = spec.points if spec is not None else (maxes[0] if maxes else None)
        per_check[cid] = {
            "max_score": _round(max_score),
            "pass_rate": _round(sum(c["status"] == "pass" for c in results) / len(results)) if results else None,
            "mean_score": _round(statistics.fmean(c["score"] for c in results)) if results else None,
            "graded": len(results)}
    subs = []
    for r in rows:
        s = {"submission": r["submission"], "status": r["status"], "score": _round(r["score"]),
             "max_score": _round(r["max_score"]),
             "checks": {cid: {"status": c["status"], "score": _round(c["score"])}
                        for cid, c in r.get("checks", {}).items()}}
        for k in ("message", "report"):
            if k in r:
                s[k] = r[k]
        subs.append(s)
    head = {"schema_version": SCHEMA_VERSION, "gradcheck_version": gradcheck_version()}
    if assignment is not None:
        head["assignment"] = assignment.name
    if seed is not None:
        head["seed"] = int(seed)
    return {**head, "stats": stats, "checks": per_check, "submissions": subs}


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(cell):
    """A spreadsheet cell that cannot run as a formula: text starting with = + - @ (or tab, CR) gets
    a leading apostrophe. Numbers are left alone."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_START):
        return "'" + cell
    return cell


def _num(x) -> str:
    return "" if x is None else repr(round(float(x), 6))


def gradebook_csv(rows, *, assignment=None) -> str:
    """The gradebook: a header row, then one row per submission (sorted by id): submission, score,
    max_score, status, then one column per check id with its score (empty when not run)."""
    rows = sorted(rows, key=lambda r: r["submission"])
    ids = _check_ids(rows, assignment)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([csv_safe(h) for h in ["submission", "score", "max_score", "status", *ids]])
    for r in rows:
        checks = r.get("checks", {})
        w.writerow([csv_safe(_text.safe(r["submission"], 500)), _num(r["score"]), _num(r["max_score"]), csv_safe(r["status"]),
                    *(_num(checks[cid]["score"]) if cid in checks else "" for cid in ids)])
    return buf.getvalue()


def write_summary(rows, out_dir, *, assignment=None, seed=None) -> tuple:
    """Write OUT_DIR/summary.json and OUT_DIR/gradebook.csv (atomically); returns both paths.
    With the assignment, its check ids are the gradebook's columns (else every id in the rows)."""
    out_dir = Path(out_dir)
    rows = list(rows)
    summary = class_summary(rows, assignment=assignment, seed=seed)
    js = atomic_write_text(out_dir / SUMMARY_JSON, dumps_json(summary))
    cs = atomic_write_text(out_dir / GRADEBOOK_CSV, gradebook_csv(rows, assignment=assignment))
    return js, cs
