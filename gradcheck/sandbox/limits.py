"""What a submission's workers may use: ``Limits`` (per worker and per call) and ``Budget`` (the
wall-clock seconds all of a submission's calls share)."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Limits:
    """Limits of one submission's workers. Times in seconds, sizes in MB/KB as named."""

    call_seconds: float = 10  #: wall clock of one request (one s.call), load included separately
    submission_seconds: float = 120  #: wall clock of all of a submission's calls together
    cpu_seconds: int = 60  #: CPU time of one worker process (RLIMIT_CPU)
    memory_mb: int = 1024  #: address space of each worker process (RLIMIT_AS)
    processes: int = 32  #: processes/threads of the worker's uid (RLIMIT_NPROC)
    file_size_mb: int = 16  #: largest file a worker may write (RLIMIT_FSIZE)
    open_files: int = 64  #: file descriptors (RLIMIT_NOFILE)
    output_kb: int = 64  #: stdout+stderr kept per session (the rest is counted, not kept)
    disk_mb: int = 64  #: size of the worker's private /tmp (tmpfs, holds the working directory)
    submission_files: int = 64  #: regular files copied from a submission folder
    submission_mb: int = 8  #: bytes copied from a submission folder, all files together
    reply_mb: int = 64  #: largest reply frame accepted from a worker
    cpus: float = 1  #: CPU time per wall-clock second of all of a worker's processes together (cgroup quota)

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"Limits.{field.name} must be a positive number, got {value!r}")
        for name in (
            "cpu_seconds",
            "memory_mb",
            "processes",
            "file_size_mb",
            "open_files",
            "output_kb",
            "disk_mb",
            "submission_files",
            "submission_mb",
            "reply_mb",
        ):
            if int(getattr(self, name)) != getattr(self, name):
                raise ValueError(f"Limits.{name} must be a whole number, got {getattr(self, name)!r}")
        if self.open_files < 8:
            raise ValueError(f"Limits.open_files must be at least 8, got {self.open_files}")
        if self.memory_mb < 256:
            raise ValueError(f"Limits.memory_mb must be at least 256 (numpy alone maps ~150 MB), got {self.memory_mb}")

    def to_dict(self):
        return dataclasses.asdict(self)


class Budget:
    """The wall-clock seconds one submission may spend in calls, shared by all its sessions."""

    def __init__(self, seconds):
        self.seconds, self.spent = float(seconds), 0.0

    @property
    def left(self):
        return max(0.0, self.seconds - self.spent)
