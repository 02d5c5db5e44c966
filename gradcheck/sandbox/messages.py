"""What the sandbox says, in one place: every sentence of it that reaches a report or the operator.

- ``MSG_*``: a call's outcome (``CallResult.message``) and a module's load error (``Session.modules``):
  what a student reads in the report, so they name what the student's code did ("exceeded the 10 s
  time limit during 'gates'");
- ``WHY_*``: why a file of the submission folder was not copied (``Session.staged["skipped"]``), which
  the grader puts in the report's message;
- ``NOTE_*``: what is missing from the isolation on this machine (``Sandbox.isolation["notes"]``),
  for the operator;
- ``ERR_*``: why the sandbox itself failed (``SandboxError``), for the operator.

Mistakes of the calling code (a wrong argument) are ``TypeError``/``ValueError`` raised where the
argument is checked, with their sentence there. The zygote's own notes are written where it finds them
(``inside/``, which imports nothing of this package).
"""

# ------------------------------------------------------------------------- a call's outcome (tests import them)

MSG_TIMEOUT = "exceeded the {seconds:g} s time limit during '{op}'"
MSG_BUDGET = "exceeded the submission's {seconds:g} s time budget during '{op}'"
MSG_BUDGET_SPENT = "the submission's {seconds:g} s time budget is spent; '{op}' was not run"
MSG_EXIT = "worker exited with code {code} during '{op}'"
MSG_SIGNAL = "worker was killed by {signal} during '{op}'"
MSG_CPU = "killed: CPU time limit {seconds:g} s during '{op}'"
MSG_MEMORY = "killed: memory limit {mb} MB during '{op}'"
MSG_MEMORY_CGROUP = "killed: memory limit {mb} MB (all of the worker's processes together) during '{op}'"
MSG_FSIZE = "killed: file size limit {mb} MB during '{op}'"
MSG_INVALID = "invalid reply during '{op}': {detail}"
MSG_TOO_BIG = (
    "reply of {size} bytes is more than the {cap} bytes this request's shapes allow (a value with far "
    "too many elements?); not read"
)
MSG_HUNG_UP = "worker closed its channel during '{op}' and did not exit"
MSG_LOST = "worker stopped answering during '{op}' ({detail})"
MSG_START = "could not start a worker for '{op}': {detail}"
MSG_LOAD = "{message} (while loading the submission before '{op}')"
MSG_BAD_LOAD = "bad load reply: {error}"
MSG_NOT_LOADED = "not loaded"
MSG_IMPORT_SKIPPED = "import of {module} did not finish: {reason}; not imported again"
MSG_LINK = "{name} is a symbolic link; links are not graded"
MSG_NOT_FOUND = "submission folder not found: {path} ({reason})"

# ------------------------------------------------------------------------- files not copied

WHY_LINK = "a symbolic link; links are not graded"
WHY_NOT_REGULAR = "not a regular file"
WHY_TOO_MANY_ENTRIES = "more than {limit} entries in the folder; not looked at"
WHY_TOO_MANY_FILES = "more than {limit} files"
WHY_TOO_BIG = "over the {mb} MB cap"

# ------------------------------------------------------------------------- isolation notes

NOTE_NO_CGROUP = (
    "no per-worker cgroup ({why}): memory is limited per process (RLIMIT_AS), not per worker; "
    "processes by RLIMIT_NPROC only; CPU is not shared fairly between workers"
)
NOTE_NO_SECCOMP = (
    "no seccomp filter: student code may create user namespaces (and mount a tmpfs of its own in "
    "one), use keyrings, ptrace, bpf and perf_event_open where the kernel lets an unprivileged "
    "process"
)
NOTE_SHARED_KEYRING = "workers share the grader's session keyring"
NOTE_PYTHON_BLOCKED = (
    "Python lives under {blocked}, which other users cannot enter: workers can use only the "
    "modules the zygote imported (install Python elsewhere, e.g. /usr/local)"
)
NOTE_WORKERS_ROOT = (
    "workers run as root: RLIMIT_NPROC is not enforced and every file the mount namespace does "
    "not hide is readable and writable"
)
NOTE_NOT_ROOT = (
    "not running as root: workers run as the grader's own user (no per-worker uid; RLIMIT_NPROC "
    "counts all of that user's processes)"
)

# ------------------------------------------------------------------------- the sandbox failed

ERR_ZYGOTE_START = "the zygote did not start: {detail}"
ERR_ZYGOTE_EXIT = "the zygote did not start (exit code {code})"
ERR_ZYGOTE_LOST = "lost the zygote: {detail}"
ERR_ZYGOTE_GONE = "lost the zygote (exit code {code})"
ERR_SPAWN = "spawn failed"
ERR_REQUIRED = "required isolation not in force on this machine: {missing} (notes: {notes})"
ERR_NOT_RUNNING = "the sandbox is not running: use it in a with block or call start()"
ERR_SANDBOX_CLOSED = "the sandbox is closed"
ERR_SESSION_CLOSED = "the session is closed"
