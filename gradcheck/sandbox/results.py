"""What comes back from a session: ``CallResult`` (one request's outcome) and ``Output`` (what the
session's workers printed), with ``OutputCollector``, the thread that drains their stdout+stderr."""

import dataclasses
import os
import select
import threading

from .. import text as _text


@dataclasses.dataclass
class CallResult:
    """The outcome of one request."""

    status: str  #: "ok" (a reply came back and was valid), "timeout" or "error"
    header: dict | None = None  #: the reply's JSON header (ops' per-item errors are in here), None unless ok
    arrays: list = dataclasses.field(default_factory=list)  #: the reply's arrays, plain ndarrays
    message: str = ""  #: what went wrong, for the report; "" when ok
    op: str = ""  #: the request's op
    seconds: float = 0.0  #: wall clock spent on this call (worker start included)
    progress: list = dataclasses.field(default_factory=list)  #: progress frames seen (load: modules started)

    @property
    def ok(self):
        return self.status == "ok"

    def to_dict(self):
        return {"status": self.status, "message": self.message, "op": self.op, "seconds": round(self.seconds, 4)}


@dataclasses.dataclass(frozen=True)
class Output:
    """Captured stdout+stderr of a session's workers (never parsed: shown to people only)."""

    text: str  #: the first output_kb of it, decoded as UTF-8 with replacement, control characters escaped
    total_bytes: int  #: everything written, counted
    truncated: bool  #: total_bytes is more than what ``text`` holds

    def to_dict(self):
        return dataclasses.asdict(self)


class OutputCollector:
    """Drains a pipe in a thread: keeps the first ``keep`` bytes, counts all.

    Workers get ``write_fd`` as their stdout and stderr. ``snapshot`` drains what is already in the
    pipe first, so that everything a worker wrote before its reply is in the snapshot taken after the
    reply."""

    def __init__(self, keep):
        self.read_fd, self.write_fd = os.pipe2(os.O_CLOEXEC)
        os.set_blocking(self.read_fd, False)
        self.keep, self.buf, self.total, self.eof = keep, bytearray(), 0, False
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name="sandbox-output", daemon=True)
        self.thread.start()

    def _drain(self):
        """Read what is there (caller holds the lock); False at end of stream."""
        while not self.eof:
            try:
                chunk = os.read(self.read_fd, 1 << 16)
            except BlockingIOError:
                return True
            except OSError:
                chunk = b""
            if not chunk:
                self.eof = True
                break
            self.total += len(chunk)
            room = self.keep - len(self.buf)
            if room > 0:
                self.buf += chunk[:room]
        return False

    def _run(self):
        while True:
            try:
                select.select([self.read_fd], [], [], 0.5)
            except (OSError, ValueError):
                return
            with self.lock:
                if self.read_fd is None or not self._drain():
                    return

    def snapshot(self):
        with self.lock:
            if self.read_fd is not None:
                self._drain()
            return Output(
                _text.safe(bytes(self.buf).decode("utf-8", "replace"), None), self.total, self.total > len(self.buf)
            )

    def close(self):
        if self.write_fd is not None:
            os.close(self.write_fd)
            self.write_fd = None
        self.thread.join(5)
        with self.lock:
            if self.read_fd is not None:
                self._drain()
                os.close(self.read_fd)
                self.read_fd = None
