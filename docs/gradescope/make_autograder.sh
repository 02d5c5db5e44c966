#!/usr/bin/env bash
# Build the Gradescope autograder zip from a gradcheck checkout.
#
#   docs/gradescope/make_autograder.sh [--assignment course.toml] [OUT.zip]     (default OUT: ./autograder.zip)
#
# The zip holds, at its root: setup.sh, run_autograder (executable), pyproject.toml, README.md,
# gradcheck/, reference/ and, with --assignment, assignment.toml. Upload it as the autograder of a
# "Programming Assignment".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
assignment=""
if [ "${1:-}" = "--assignment" ]; then
    assignment=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
    shift 2
fi
out=${1:-$PWD/autograder.zip}
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
PY=${PYTHON:-python3}

"$PY" - "$repo" "$here" "$out" "$assignment" <<'PYEOF'
import os, stat, sys, zipfile
repo, here, out, assignment = sys.argv[1:5]
entries = [(os.path.join(here, "setup.sh"), "setup.sh"), (os.path.join(here, "run_autograder"), "run_autograder"),
           (os.path.join(repo, "pyproject.toml"), "pyproject.toml"), (os.path.join(repo, "README.md"), "README.md")]
for top in ("gradcheck", "reference"):
    for dirpath, dirnames, filenames in os.walk(os.path.join(repo, top)):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and not d.endswith(".egg-info"))
        for f in sorted(filenames):
            if not f.endswith((".pyc", ".pyo")):
                path = os.path.join(dirpath, f)
                entries.append((path, os.path.relpath(path, repo)))
if assignment:
    entries.append((assignment, "assignment.toml"))
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for path, name in entries:
        info = zipfile.ZipInfo.from_file(path, name)
        mode = 0o755 if name in ("setup.sh", "run_autograder") else 0o644
        info.external_attr = (stat.S_IFREG | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(path, "rb") as f:
            z.writestr(info, f.read())
print(f"{out}: {len(entries)} files")
PYEOF
