"""HOSTILE (integrity): no code at all, but the worker's request handlers are replaced (at import, so
in every session) by ones that answer every request with empty lists: a grader that zips replies
against requests would compare nothing and pass everything."""
import sys

_ops = sys.modules.get("ops")
if _ops is not None:
    def _empty(state, header, arrays, reply):
        return {"calls": [], "graphs": [], "nets": [], "trials": [], "engines": {}, "results": []}
    for _k in list(_ops.OPS):
        if _k != "load":
            _ops.OPS[_k] = _empty


class AddGate:
    def forward(self, x, y):
        return 0.0

    def backward(self, dz):
        return [0.0, 0.0]
