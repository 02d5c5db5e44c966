"""HOSTILE (micrograd; resources: time): the honest engine, except that backward() on a graph deeper
than 200 operations (the deep chain) first spins the CPU for 30 s.

A safe grader stops it at its call limit and reports that check (engine.Value.deep_chain) as a
timeout, and nothing else: the other engine checks keep the honest code's points. Bounded: the loop
ends by itself after 30 s of wall clock."""
import time

from honest_engine import Value

_honest_backward = Value.backward


def _depth(root):
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        v, done = stack.pop()
        if done:
            order.append(v)
        elif id(v) not in seen:
            seen.add(id(v))
            stack.append((v, True))
            stack.extend((c, False) for c in v._prev)
    depth = {}
    for v in order:
        depth[id(v)] = 1 + max((depth[id(c)] for c in v._prev), default=0)
    return depth[id(root)]


def _backward(self):
    if _depth(self) > 200:
        end = time.monotonic() + 30
        while time.monotonic() < end:
            pass
    _honest_backward(self)


Value.backward = _backward
