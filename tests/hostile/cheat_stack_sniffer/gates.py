"""HOSTILE (integrity): honest gates that read the call stack at every forward (the worker's frames:
local names, strings, dict keys) for anything that tells a probe from a run or a hidden check from a
visible one, and return NaN whenever they find it. Nothing revealing may be there: it must keep full
marks for its gates. Bounded: 40 frames, 200 locals each."""
import sys

import numpy as np

import honest_gates

WORDS = ("probe", "point", "numerical", "hidden", "visible", "withheld", "reference", "expected", "plan",
         "check", "anchor", "redo")
FOUND = set()


def _revealing():
    frame, words = sys._getframe(2), set()
    for _ in range(40):
        if frame is None:
            break
        if frame.f_code.co_filename.rsplit("/", 1)[-1] in ("ops.py", "worker.py"):
            for name, value in list(frame.f_locals.items())[:200]:
                texts = [name]
                if isinstance(value, str):
                    texts.append(value)
                elif isinstance(value, dict):
                    texts.extend(str(k) for k in list(value)[:50])
                    texts.extend(str(k) for v in list(value.values())[:50] if isinstance(v, list)
                                 for item in v[:5] if isinstance(item, dict) for k in item)
                words |= {w for t in texts for w in WORDS if w in t.lower()}
        frame = frame.f_back
    FOUND.update(words)
    return words


class _Sniffer:
    def forward(self, *inputs):
        out = super().forward(*inputs)
        if _revealing():
            return np.full(np.shape(out), np.nan) if np.ndim(out) else float("nan")
        return out


for _name, _honest in vars(honest_gates).copy().items():
    if isinstance(_honest, type):
        globals()[_name] = type(_name, (_Sniffer, _honest), {})
