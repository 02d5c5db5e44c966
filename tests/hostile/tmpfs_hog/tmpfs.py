"""HOSTILE: memory that no RLIMIT_AS sees: files in the worker's private /tmp, a tmpfs (RAM). Writes
up to 400 MB there in 16 MB steps, then removes the file; returns the MB written. Bounded by itself
(400 MB; disk_mb bounds it further)."""
import os


def run(total_mb=400):
    written = 0
    chunk = b"\1" * (16 * 2**20)
    try:
        with open("/tmp/hog", "wb") as f:
            while written < total_mb:
                f.write(chunk)
                f.flush()
                written += 16
    except OSError as exc:
        print(f"tmpfs hog stopped after {written} MB: {exc}")
    finally:
        try:
            os.unlink("/tmp/hog")
        except OSError:
            pass
    print(f"tmpfs hog wrote {written} MB")
    return written
