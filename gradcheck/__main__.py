"""``python -m gradcheck``: the command line. The working directory (which ``python -m`` puts first on
sys.path) is removed before anything else is imported, so a ``numpy.py`` or a folder named like a
module in the folder you run it from (a submission, say) is never imported by the grader."""

from .workdir import drop_working_directory

drop_working_directory()

import sys  # noqa: E402

from .cli import main  # noqa: E402

sys.exit(main(prog_name="gradcheck"))
