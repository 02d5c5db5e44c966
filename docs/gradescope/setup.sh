#!/usr/bin/env bash
# Gradescope autograder: setup.sh
#
# Gradescope runs this ONCE, as root, while it builds the autograder image. The zip's files are in
# /autograder/source: this script, run_autograder, and a copy of gradcheck (pyproject.toml, README.md,
# gradcheck/, reference/), plus optionally assignment.toml (your course's assignment file).
#
# It installs gradcheck (not editable) into a virtualenv in /opt/gradcheck. That folder is outside
# /root on purpose: gradcheck runs student code in worker processes under their own unprivileged uid,
# and those must be able to run this Python and import numpy.
set -euo pipefail

SRC=${AUTOGRADER:-/autograder}/source
VENV=${GRADCHECK_VENV:-/opt/gradcheck}
export DEBIAN_FRONTEND=noninteractive

# A Python >= 3.11 (Gradescope's Ubuntu 22.04 image has 3.10; 24.04 has 3.12).
PY=""
for cand in python3.13 python3.12 python3.11 python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        PY=$(command -v "$cand")
        break
    fi
done
if [ -z "$PY" ]; then
    apt-get update
    apt-get install -y --no-install-recommends python3.11 python3.11-venv
    PY=$(command -v python3.11)
fi
# the venv module needs ensurepip (Debian/Ubuntu ship it as pythonX.Y-venv)
if ! "$PY" -c 'import ensurepip' >/dev/null 2>&1; then
    apt-get update
    apt-get install -y --no-install-recommends "python$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')-venv"
fi

"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --no-cache-dir --upgrade pip
"$VENV/bin/python" -m pip install --no-cache-dir "$SRC"
chmod -R a+rX "$VENV"        # workers (other uids) must be able to read the interpreter and numpy

"$VENV/bin/gradcheck" --version
echo "gradcheck installed in $VENV"
