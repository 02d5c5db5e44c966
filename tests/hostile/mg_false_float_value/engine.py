"""NOT HOSTILE (micrograd; lying objects the grader must not trust): a correct engine whose Value is
also a float, whose float value is always 0.0 (float(v), v == 0.0 and hash(v) see 0.0): the numbers
are in v.data and v.grad, as the contract says. Its arithmetic operators are the engine's, not
float's, and equality and hashing are by identity (so its visited set works).

A safe grader reads .data and .grad, never float(v), and must give it full marks. Bounded: the
honest engine's loops only."""
import honest_engine

_Base = honest_engine.Value


class Value(float, _Base):
    def __new__(cls, data=0.0, *args, **kwargs):
        return super().__new__(cls, 0.0)

    __init__ = _Base.__init__
    __add__, __radd__, __sub__, __rsub__ = _Base.__add__, _Base.__radd__, _Base.__sub__, _Base.__rsub__
    __mul__, __rmul__, __truediv__, __rtruediv__ = _Base.__mul__, _Base.__rmul__, _Base.__truediv__, _Base.__rtruediv__
    __pow__, __neg__, __repr__ = _Base.__pow__, _Base.__neg__, _Base.__repr__
    __eq__, __ne__, __hash__ = object.__eq__, object.__ne__, object.__hash__


honest_engine.Value = Value  # the engine's operations make these Values
