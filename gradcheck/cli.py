"""The command line: a thin layer over the library (gradcheck.batch, .report, .formats): it parses,
calls, prints. An error ends a command with its class's exit status (``exit_code``, gradcheck.errors)."""

from __future__ import annotations

import sys

if __name__ == "__main__":  # python -m gradcheck.cli: the working directory must not shadow a module
    from .workdir import drop_working_directory

    drop_working_directory()

import json
import statistics
from pathlib import Path

import click

from . import batch as _batch
from .assignment import assignment_schema, load_assignment
from .contract import MODULES
from .errors import (
    USAGE,
    AssignmentError,
    BatchError,
    GradcheckError,
    GraderError,
    ReferenceFailed,
    ResultsNotWritten,
    RunFolderError,
    ValidationError,
)
from .formats import (
    FORMATS,
    GRADESCOPE_VISIBILITIES,
    gradescope_failure_results,
    prairielearn_failure_results,
    to_gradescope,
    to_prairielearn,
)
from .formats.class_files import write_class_formats
from .formats.container import grade_in_container
from .progress import ProgressBar
from .report import (
    GRADEBOOK_CSV,
    SUMMARY_JSON,
    atomic_write_text,
    dumps_json,
    render_feedback,
    report_schema,
    student_view,
    write_report,
)
from .report import points_text as _pts
from .report.messages import could_not_grade
from .text import safe as _safe
from .text import terminal as _tty
from .validate import DEFAULT_SEEDS, render_table
from .validate import validate as validate_assignment

EXIT_CODES = f"""\b
Exit status:
  0  grading completed, whatever the students scored
  {GraderError.exit_code}  the grader itself could not do its job (cannot write the reports folder,
     cannot start the sandbox, every submission ended in a grader error)
  {AssignmentError.exit_code}  usage error: bad option or path, malformed assignment file (the message
     names the file and the field)"""


def _exit(error: GradcheckError, prefix: str = "") -> click.ClickException:
    """What ends the command for ``error``: click prints "Error: " and its message and exits with
    the error class's ``exit_code``; a usage error also shows the command's usage line."""
    e = (click.UsageError if error.exit_code == USAGE else click.ClickException)(prefix + str(error))
    e.exit_code = error.exit_code
    return e


def _load(assignment_file):
    try:
        return load_assignment(assignment_file)
    except AssignmentError as e:
        raise _exit(e, "malformed assignment: ") from None


def _print_class(rows, assignment) -> list:
    """The summary table of a graded class (stdout), and which submissions could not be graded
    (stderr); returns their names."""
    names = {r["submission"]: _tty(r["submission"], 200) for r in rows}
    width = max([10] + [len(n) for n in names.values()])
    click.echo(f"{'submission':<{width}}  {'score':>13}  status  points lost on")
    for r in rows:
        click.echo(
            f"{names[r['submission']]:<{width}}  {_pts(r['score']):>6} / {_pts(r['max_score']):<4}  "
            f"{r['status']:<6}  {_tty(_lost(r), 2000)}"
        )
    graded = sorted(r["score"] for r in rows if r["status"] == "graded")
    if graded:
        click.echo(
            f"\n{len(rows)} submissions, {len(graded)} graded: mean {statistics.fmean(graded):.2f}, "
            f"median {statistics.median(graded):g} (of {_pts(assignment.max_score)})"
        )
    errors = [names[r["submission"]] for r in rows if r["status"] == "error"]
    if errors:
        click.echo(
            f"{len(errors)} submission(s) could not be graded (status error): {', '.join(errors[:20])}"
            + (" ..." if len(errors) > 20 else ""),
            err=True,
        )
    return errors


def _lost(row, most=3) -> str:
    """The checks a submission lost points on, the first few by id."""
    lost = [cid for cid, c in row.get("checks", {}).items() if c["score"] < c["max_score"]]
    return ", ".join(lost[:most]) + (f" (+{len(lost) - most} more)" if len(lost) > most else "")


@click.group(epilog=EXIT_CODES, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gradcheck")
def main():
    """Grade backpropagation assignments: gates, computational graphs and an MLP."""


_assignment_option = click.option(
    "--assignment",
    "assignment_file",
    type=click.Path(path_type=Path),
    default=None,
    help="The assignment: a folder holding assignment.toml, a TOML file, or a bundled assignment's name "
    "(layers); default: the packaged backprop assignment.",
)


def _default_seed() -> int:
    from .replay import recorded_seed

    return recorded_seed()  # 0, or in a student build the seed its expected values were recorded with


_seed_option = click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=_default_seed,
    show_default="0, or a student build's own",
    help="Seed of every random input; the same seed reproduces the same reports.",
)


@main.command(epilog=EXIT_CODES)
@click.argument("submissions_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports"),
    show_default=True,
    help="Folder for the reports, summary.json and gradebook.csv.",
)
@_assignment_option
@_seed_option
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help=f"Submissions graded in parallel (default: the CPUs available, at most 8; here {_batch.default_jobs()}).",
)
@click.option(
    "--format",
    "formats",
    type=click.Choice(FORMATS),
    multiple=True,
    help="Also write results in a platform's format (repeat for several): gradescope -> "
    "OUT/gradescope/<submission>.json, prairielearn -> OUT/prairielearn/<submission>.json, "
    "junit -> OUT/junit.xml (one testsuite per submission, one testcase per check).",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Keep the reports in OUT that are up to date (same files, assignment, seed and gradcheck "
    "version) and grade only the other submissions: finishes a run that was stopped, or grades the "
    "submissions added since.",
)
@click.option(
    "--cluster",
    default=None,
    metavar="ADDRESS",
    help="Grade on a Dask cluster: tcp://HOST:PORT (a running scheduler) or local:N (N worker processes "
    "started here). Needs pip install 'gradcheck[dask]'. See README, Grading on a cluster.",
)
def grade(submissions_dir, out_dir, assignment_file, seed, jobs, formats, resume, cluster):
    """Grade every submission folder in SUBMISSIONS_DIR.

    Each immediate subfolder (not starting with '.' or '_') is one submission; its report is written
    to OUT/<submission>.json as soon as it is graded, and OUT/summary.json, OUT/gradebook.csv and the
    class report OUT/index.html sum up the class. Progress goes to stderr (a bar on a terminal, a line
    per submission otherwise), the summary table to stdout.

    With --format the native reports are still written; the platform files are made from them
    (Gradescope: per-test visibility from the assignment; PrairieLearn: only what a student may see
    now; JUnit: the instructor's view, every check with details)."""
    assignment = _load(assignment_file)
    if cluster is not None and jobs is not None:
        raise click.UsageError("--jobs is for grading on this machine; with --cluster the cluster's workers grade")
    jobs = jobs or _batch.default_jobs()

    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() else None

    def progress(row, done, total):
        if bar is not None:  # a terminal: the bar, and above it each submission that could not be graded
            why = _tty(row.get("message", ""), 2000)
            failed = [f"{_tty(row['submission'], 200)}: could not be graded: {why}"] if row["status"] == "error" else []
            bar.update(done, total, _tty(row["submission"], 40), failed)
            return
        secs = f"{row['seconds']:.1f}s" if row.get("seconds") is not None else "-"
        click.echo(
            f"[{done:>{len(str(total))}}/{total}] {_tty(row['submission'], 200):<24} "
            f"{_pts(row['score']):>6}/{_pts(row['max_score']):<5} {row['status']:<7} {secs}",
            err=True,
        )
        if row["status"] == "error":
            click.echo(f"    {_tty(row.get('message', ''), 2000)}", err=True)
            if row.get("traceback"):
                click.echo("    " + _safe(row["traceback"]).rstrip().replace("\n", "\n    "), err=True)

    try:
        rows = _batch.grade_class(
            submissions_dir,
            out_dir,
            assignment,
            seed=seed,
            jobs=jobs,
            progress=progress,
            resume=resume,
            cluster=cluster,
        )
    except (BatchError, GraderError) as e:
        raise _exit(e) from None
    finally:
        if bar is not None:
            bar.close()

    errors = _print_class(rows, assignment)
    click.echo(f"Reports: {out_dir}/ (one <submission>.json each, {SUMMARY_JSON}, {GRADEBOOK_CSV})")
    if resume:
        kept = sum(bool(r.get("resumed")) for r in rows)
        click.echo(
            f"Resumed: skipped {kept} submission(s) whose reports were up to date (same files, assignment, "
            f"seed and gradcheck version); graded {len(rows) - kept}"
        )
    if formats:
        try:
            for line in write_class_formats(rows, out_dir, assignment, formats):
                click.echo(line)
        except OSError as e:
            raise _exit(
                GraderError(f"could not write the {'/'.join(formats)} results in {str(out_dir)!r}: {e}")
            ) from None
    _write_class_report(out_dir)
    if errors and len(errors) == len(rows):
        raise _exit(
            GraderError("no submission could be graded: the grader is not working here (see the messages above)")
        )


def _write_class_report(out_dir):
    from .classreport import write_class_report

    try:
        made = write_class_report(out_dir)
    except RunFolderError as e:
        raise _exit(e) from None
    except OSError as e:
        raise _exit(GraderError(f"could not write the class report in {str(out_dir)!r}: {e}")) from None
    click.echo(
        f"Class report: {made.path} ({made.submissions} submissions, {len(made.plots)} plots"
        + (f"; {made.unreadable} report file(s) could not be read" if made.unreadable else "")
        + ("" if made.complete else f"; no {SUMMARY_JSON}: a run that did not finish")
        + ")"
    )


@main.command("report", epilog=EXIT_CODES)
@click.argument("out_dir", type=click.Path(path_type=Path))
def report_command(out_dir):
    """Write the class report OUT_DIR/index.html (and a page per submission in OUT_DIR/pages/) again
    from the reports in OUT_DIR, the --out folder of a grade run.

    Self-contained (no script, nothing fetched): open it from the file. When OUT_DIR has no
    summary.json (a run that did not finish), every report file in it is shown."""
    _write_class_report(out_dir)


_DIFF_EXIT = f"""\b
Exit status:
  0  no score changed
  1  some score changed, or a submission was graded in one run only
  {USAGE}  usage error: a path that is not a grade run's --out folder, or a report
     in it that cannot be read"""


@main.command("diff", epilog=_DIFF_EXIT)
@click.argument("old_dir", type=click.Path(path_type=Path))
@click.argument("new_dir", type=click.Path(path_type=Path))
@click.pass_context
def diff_command(ctx, old_dir, new_dir):
    """What a regrade changed: the reports in OLD_DIR and NEW_DIR (two grade runs' --out folders)
    compared submission by submission.

    Prints, for each submission whose score, status or checks changed, the score before and after
    and each check whose status changed with its new message; then a summary line. Exits 1 when any
    score changed (usable in CI before publishing a regrade)."""
    from .regrade import diff_lines, diff_runs

    try:
        diff = diff_runs(old_dir, new_dir)
    except RunFolderError as e:
        raise _exit(e) from None
    for line in diff_lines(diff, old_name=_tty(str(old_dir), 200), new_name=_tty(str(new_dir), 200)):
        click.echo(line)
    if diff.changed:
        ctx.exit(1)


@main.command(epilog=EXIT_CODES)
@click.argument("submission_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_assignment_option
@_seed_option
@click.option("--all", "show_all", is_flag=True, help="Show everything, hidden checks included (for an instructor).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also write the full report to OUT/<submission>.json (default: write nothing).",
)
def check(submission_dir, assignment_file, seed, show_all, out_dir):
    """Grade one submission folder and print its feedback.

    By default prints what a student may see (hidden checks and those shown after the due date
    appear only as placeholders); --all prints the full report's content."""
    assignment = _load(assignment_file)
    files = [f"{m}.py" for m in assignment.modules or MODULES]
    if not any((submission_dir / f).exists() for f in files):
        click.echo(f"warning: {_tty(submission_dir)} has none of {', '.join(files)}", err=True)
    if out_dir is not None:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)  # the sandbox hides it: it must exist first
        except OSError as e:
            raise _exit(GraderError(f"could not create {str(out_dir)!r}: {e}")) from None
    try:
        report, seconds, trace = _batch.grade_one(
            submission_dir, assignment, seed, hide=[out_dir.resolve()] if out_dir else ()
        )
    except GraderError as e:
        raise _exit(e) from None
    click.echo(render_feedback(report if show_all else student_view(report)), nl=False)
    if out_dir is not None:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            path = write_report(report, out_dir)
        except OSError as e:
            raise _exit(GraderError(f"could not write the report to {str(out_dir)!r}: {e}")) from None
        click.echo(f"Report: {path}", err=True)
    if report["status"] == "error":
        if trace:
            click.echo(_safe(trace).rstrip(), err=True)
        raise _exit(GraderError(f"{could_not_grade()}: {_tty(report.get('message', ''))}"))


_VALIDATE_EXIT = f"""\b
Exit status:
  0  the reference scored full marks on every seed, whatever the mutation score
  {ReferenceFailed.exit_code}  the reference itself lost points (the assignment is broken: the table says
     which seed and check), or grading could not run (the sandbox cannot start)
  {ValidationError.exit_code}  usage error: bad option or path, malformed assignment file, no reference folder"""


@main.command("validate", epilog=_VALIDATE_EXIT)
@click.argument(
    "assignment_file", metavar="[ASSIGNMENT]", required=False, default=None, type=click.Path(path_type=Path)
)
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=DEFAULT_SEEDS,
    show_default=True,
    help="Grade the reference on seeds 0 .. N-1 (the mutants on seed 0).",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help=f"Submissions graded in parallel (default: the CPUs available, at most 8; here {_batch.default_jobs()}).",
)
@click.option(
    "--json",
    "json_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the result as JSON.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep the reference's copies, the mutants and all their reports in this new or empty folder.",
)
def validate_command(assignment_file, seeds, jobs, json_file, out_dir):
    """Prove an assignment: grade its reference, then mutants of it, and print which checks catch each.

    ASSIGNMENT is what --assignment takes (a folder holding assignment.toml, a TOML file, or a bundled
    assignment's name such as layers; default: the packaged backprop assignment). Its reference must
    score full marks on every seed; then every automatic mutant of the code its units declare (a returned
    gradient negated, doubled, zeroed, transposed, two swapped, the upstream gradient replaced by ones,
    an input changed in place, a derivative at the input instead of the output, an accumulation
    overwritten, an SGD step uphill) is graded like a student's submission, in the sandbox. Per
    mutant: the checks that caught it and their diagnosis, or SURVIVED; then the mutation score per
    operator and in total. Progress goes to stderr, the table to stdout."""
    assignment = _load(assignment_file)
    try:
        result = validate_assignment(
            assignment, seeds=seeds, jobs=jobs, out=out_dir, progress=lambda line: click.echo(_tty(line), err=True)
        )
    except (ValidationError, GraderError) as e:
        raise _exit(e) from None
    click.echo(render_table(result), nl=False)
    if json_file is not None:
        try:
            atomic_write_text(json_file, dumps_json(result.to_dict()))
        except OSError as e:
            raise _exit(GraderError(f"could not write {str(json_file)!r}: {e.strerror or e}")) from None
    if not result.reference_ok:
        raise _exit(ReferenceFailed(f"the assignment is broken: {result.reference_problem()}"))


@main.command()
@click.option("--assignment", "which", flag_value="assignment", help="Print the assignment file's schema instead.")
@click.option("--gradescope", "which", flag_value="gradescope", help="Print the schema of Gradescope's results.json.")
@click.option(
    "--prairielearn", "which", flag_value="prairielearn", help="Print the schema of PrairieLearn's results.json."
)
def schema(which):
    """Print the report's JSON Schema (or the assignment file's, or a platform's results file's)."""
    if which in ("gradescope", "prairielearn"):
        from .formats import format_schema

        click.echo(json.dumps(format_schema(which), indent=2))
        return
    click.echo(json.dumps(assignment_schema() if which == "assignment" else report_schema(), indent=2))


@main.command(epilog=EXIT_CODES)
@click.option(
    "--student",
    "student",
    is_flag=True,
    required=True,
    help="Make the student build (the only kind there is; required so the command says what it makes).",
)
@click.argument("assignment_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@_seed_option
def pack(student, assignment_file, out_dir, seed):
    """Make what students install to check their work: OUT_DIR, a source tree (pip install OUT_DIR).

    It holds the tool and ASSIGNMENT_FILE's visible checks with their expected values recorded on
    fixed inputs (from the reference solution, with this seed), and no reference code, no hidden or
    after-due-date check, nothing that names them. See gradcheck/pack.py."""
    try:
        from .pack import PackError, build_student
    except ImportError:
        raise _exit(GraderError("this is a student build of gradcheck: it cannot make student builds")) from None
    try:
        summary = build_student(assignment_file, out_dir, seed=seed)
    except (PackError, GraderError) as e:
        raise _exit(e) from None
    click.echo(
        f"Student build: {summary['out']}/ ({summary['visible']} visible checks, {summary['withheld']} "
        f"withheld and left out, {summary['recorded']} recorded reference results, seed {summary['seed']})"
    )
    click.echo(f"Students install it with: pip install {summary['out']}")


def _run_in_container(*args):
    try:
        grade_in_container(*args, grade_one=_batch.grade_one, echo=click.echo)
    except ResultsNotWritten as e:
        raise _exit(e) from None


_CONTAINER_EXIT = f"""\b
Exit status:
  0  results written (also when grading failed: then they say so, score 0)
  {ResultsNotWritten.exit_code}  the results file itself could not be written
  {USAGE}  usage error in the command line itself (nothing written; the shipped
     run_autograder then writes a minimal results file)"""

_hide_option = click.option(
    "--hide",
    "hide",
    multiple=True,
    type=click.Path(path_type=Path),
    help="A path student code must not see (repeatable; missing paths are skipped). Always hidden: "
    "the results folder, the assignment's folder, gradcheck itself, and the "
    "platform's own folders (/autograder/source; /grade/tests, /grade/serverFilesCourse).",
)
_report_option = click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write gradcheck's full (instructor) report JSON here.",
)


def _container_paths(submission, submission_help, results, platform):
    """The --submission and --results options of a platform's container command, at its paths."""

    def decorate(command):
        command = click.option(
            "--results",
            type=click.Path(dir_okay=False, path_type=Path),
            default=Path(results),
            show_default=True,
            help=f"Where {platform} reads the results.",
        )(command)
        return click.option(
            "--submission",
            type=click.Path(path_type=Path),
            default=Path(submission),
            show_default=True,
            help=submission_help,
        )(command)

    return decorate


@main.command(epilog=_CONTAINER_EXIT)
@_container_paths(
    "/autograder/submission",
    "The student's files (or a folder holding one folder with them).",
    "/autograder/results/results.json",
    "Gradescope",
)
@_assignment_option
@_seed_option
@click.option(
    "--visibility",
    type=click.Choice(GRADESCOPE_VISIBILITIES),
    default="visible",
    show_default=True,
    help="Top-level visibility of the results (each test keeps its check's own visibility).",
)
@_hide_option
@_report_option
def gradescope(submission, results, assignment_file, seed, visibility, hide, report_file):
    """Grade one submission inside Gradescope's autograder container.

    Writes RESULTS in Gradescope's results.json format and ALWAYS writes it: when grading itself
    fails (missing submission, broken assignment file, sandbox that cannot start, grader bug) the file
    says so, with score 0. Each check is one test whose visibility is the check's visibility in the
    assignment; the top-level output shows only what a student may see. The full instructor feedback
    goes to stdout (shown to instructors only).

    As root (Gradescope runs run_autograder as root) student code runs as an unprivileged user in
    the sandbox's worker processes; if that cannot be arranged, nothing is run and the results say so."""
    _run_in_container(
        "gradescope",
        submission,
        results,
        assignment_file,
        seed,
        hide,
        report_file,
        lambda r, a: to_gradescope(r, a, visibility=visibility),
        lambda why, a: gradescope_failure_results(why, a, seed=seed),
    )


@main.command(epilog=_CONTAINER_EXIT)
@_container_paths("/grade/student", "The student's files.", "/grade/results/results.json", "PrairieLearn")
@_assignment_option
@_seed_option
@click.option("--now-due", is_flag=True, help="Show after_due_date checks too.")
@click.option("--published", is_flag=True, help="Show after_published checks too.")
@_hide_option
@_report_option
def prairielearn(submission, results, assignment_file, seed, now_due, published, hide, report_file):
    """Grade one submission inside a PrairieLearn external grader.

    Writes RESULTS in PrairieLearn's results.json format (at most 1 MB) and ALWAYS writes it: when
    grading itself fails it has gradable false (no attempt used) and a message saying why.
    PrairieLearn has no per-test visibility, so checks a student may not see yet are left out of the
    tests (the message says how many); the score counts every check."""
    _run_in_container(
        "prairielearn",
        submission,
        results,
        assignment_file,
        seed,
        hide,
        report_file,
        lambda r, a: to_prairielearn(r, a, now_due=now_due, published=published),
        lambda why, a: prairielearn_failure_results(why),
    )


if __name__ == "__main__":  # python -m gradcheck.cli
    sys.exit(main())
