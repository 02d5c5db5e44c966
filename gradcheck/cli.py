"""The command line: a thin layer over gradcheck.batch and gradcheck.report."""
from __future__ import annotations

import json
import os
import sys
import tempfile
import traceback
from pathlib import Path

import click

from . import batch as _batch
from .assignment import AssignmentError, assignment_schema, load_assignment
from .formats import (FORMATS, GRADESCOPE_VISIBILITIES, gradescope_failure_results, prairielearn_failure_results,
                      to_gradescope, to_junit, to_prairielearn, validate_gradescope, validate_prairielearn,
                      write_json)
from .report import (atomic_write_text, dumps_report, error_report, report_schema, render_feedback, safe_name,
                     student_view, write_report)

EXIT_CODES = """\b
Exit status:
  0  grading completed, whatever the students scored
  1  the grader itself could not do its job (cannot write the reports folder,
     cannot start the sandbox, every submission ended in a grader error)
  2  usage error: bad option or path, malformed assignment file (the message
     names the file and the field)"""


class UsageProblem(click.UsageError):
    """A caller's mistake: exit status 2."""
    exit_code = 2


class GraderFailure(click.ClickException):
    """The grader could not do its job: exit status 1."""
    exit_code = 1


def _load(assignment_file):
    try:
        return load_assignment(assignment_file)
    except AssignmentError as e:
        raise UsageProblem(f"malformed assignment: {e}") from None


def _lost(row, most=3) -> str:
    """The checks a submission lost points on, the first few by id."""
    lost = [cid for cid, c in row.get("checks", {}).items() if c["score"] < c["max_score"]]
    return ", ".join(lost[:most]) + (f" (+{len(lost) - most} more)" if len(lost) > most else "")


def _pts(x) -> str:
    return f"{float(x):g}"


@click.group(epilog=EXIT_CODES, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gradcheck")
def main():
    """Grade backpropagation assignments: gates, computational graphs and an MLP."""


_assignment_option = click.option(
    "--assignment", "assignment_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Assignment TOML file (default: the packaged backprop assignment).")
_seed_option = click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
                            help="Seed of every random input; the same seed reproduces the same reports.")


@main.command(epilog=EXIT_CODES)
@click.argument("submissions_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"),
              show_default=True, help="Folder for the reports, summary.json and gradebook.csv.")
@_assignment_option
@_seed_option
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help=f"Submissions graded in parallel (default: the CPUs available, at most 8; here "
                   f"{_batch.default_jobs()}).")
@click.option("--format", "formats", type=click.Choice(FORMATS), multiple=True,
              help="Also write results in a platform's format (repeat for several): gradescope -> "
                   "OUT/gradescope/<submission>.json, prairielearn -> OUT/prairielearn/<submission>.json, "
                   "junit -> OUT/junit.xml (one testsuite per submission, one testcase per check).")
def grade(submissions_dir, out_dir, assignment_file, seed, jobs, formats):
    """Grade every submission folder in SUBMISSIONS_DIR.

    Each immediate subfolder (not starting with '.' or '_') is one submission; its report is written
    to OUT/<submission>.json as soon as it is graded, and OUT/summary.json and OUT/gradebook.csv sum
    up the class. Progress goes to stderr, the summary table to stdout.

    With --format the native reports are still written; the platform files are made from them
    (Gradescope: per-test visibility from the assignment; PrairieLearn: only what a student may see
    now; JUnit: the instructor's view, every check with details)."""
    assignment = _load(assignment_file)
    jobs = jobs or _batch.default_jobs()

    def progress(row, done, total):
        secs = f"{row['seconds']:.1f}s" if row.get("seconds") is not None else "-"
        click.echo(f"[{done:>{len(str(total))}}/{total}] {row['submission']:<24} "
                   f"{_pts(row['score']):>6}/{_pts(row['max_score']):<5} {row['status']:<7} {secs}", err=True)
        if row["status"] == "error":
            click.echo(f"    {row.get('message', '')}", err=True)
            if row.get("traceback"):
                click.echo("    " + row["traceback"].rstrip().replace("\n", "\n    "), err=True)

    try:
        rows = _batch.grade_class(submissions_dir, out_dir, assignment, seed=seed, jobs=jobs, progress=progress)
    except _batch.BatchError as e:
        raise UsageProblem(str(e)) from None
    except _batch.GraderError as e:
        raise GraderFailure(str(e)) from None

    width = max([10] + [len(r["submission"]) for r in rows])
    click.echo(f"{'submission':<{width}}  {'score':>13}  status  points lost on")
    for r in rows:
        click.echo(f"{r['submission']:<{width}}  {_pts(r['score']):>6} / {_pts(r['max_score']):<4}  "
                   f"{r['status']:<6}  {_lost(r)}")
    graded = sorted(r["score"] for r in rows if r["status"] == "graded")
    if graded:
        import statistics
        click.echo(f"\n{len(rows)} submissions, {len(graded)} graded: mean {statistics.fmean(graded):.2f}, "
                   f"median {statistics.median(graded):g} (of {_pts(assignment.max_score)})")
    errors = [r["submission"] for r in rows if r["status"] == "error"]
    if errors:
        click.echo(f"{len(errors)} submission(s) could not be graded (status error): {', '.join(errors[:20])}"
                   + (" ..." if len(errors) > 20 else ""), err=True)
    click.echo(f"Reports: {out_dir}/ (one <submission>.json each, summary.json, gradebook.csv)")
    if formats:
        try:
            for line in _write_formats(rows, out_dir, assignment, formats):
                click.echo(line)
        except OSError as e:
            raise GraderFailure(f"could not write the {'/'.join(formats)} results in {str(out_dir)!r}: {e}") from None
    if errors and len(errors) == len(rows):
        raise GraderFailure("no submission could be graded: the grader is not working here (see the messages above)")


@main.command(epilog=EXIT_CODES)
@click.argument("submission_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_assignment_option
@_seed_option
@click.option("--all", "show_all", is_flag=True,
              help="Show everything, hidden checks included (for an instructor).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write the full report to OUT/<submission>.json (default: write nothing).")
def check(submission_dir, assignment_file, seed, show_all, out_dir):
    """Grade one submission folder and print its feedback.

    By default prints what a student may see (hidden checks and those shown after the due date
    appear only as placeholders); --all prints the full report's content."""
    assignment = _load(assignment_file)
    if not any((submission_dir / f"{m}.py").exists() for m in ("gates", "graph", "mlp")):
        click.echo(f"warning: {submission_dir} has none of gates.py, graph.py, mlp.py", err=True)
    if out_dir is not None:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)  # the sandbox hides it: it must exist first
        except OSError as e:
            raise GraderFailure(f"could not create {str(out_dir)!r}: {e}") from None
    try:
        report, seconds, trace = _batch.grade_one(submission_dir, assignment, seed,
                                                  hide=[out_dir.resolve()] if out_dir else ())
    except _batch.GraderError as e:
        raise GraderFailure(str(e)) from None
    click.echo(render_feedback(report if show_all else student_view(report)), nl=False)
    if out_dir is not None:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            path = write_report(report, out_dir)
        except OSError as e:
            raise GraderFailure(f"could not write the report to {str(out_dir)!r}: {e}") from None
        click.echo(f"Report: {path}", err=True)
    if report["status"] == "error":
        if trace:
            click.echo(trace.rstrip(), err=True)
        raise GraderFailure("the grader could not grade this submission: " + report.get("message", ""))


@main.command()
@click.option("--assignment", "which", flag_value="assignment", help="Print the assignment file's schema instead.")
@click.option("--gradescope", "which", flag_value="gradescope", help="Print the schema of Gradescope's results.json.")
@click.option("--prairielearn", "which", flag_value="prairielearn",
              help="Print the schema of PrairieLearn's results.json.")
def schema(which):
    """Print the report's JSON Schema (or the assignment file's, or a platform's results file's)."""
    if which in ("gradescope", "prairielearn"):
        from .formats import format_schema
        click.echo(json.dumps(format_schema(which), indent=2))
        return
    click.echo(json.dumps(assignment_schema() if which == "assignment" else report_schema(), indent=2))


# --- platform formats -----------------------------------------------------------------------------

def _write_formats(rows, out_dir, assignment, formats):
    """The platform files of a graded class, made from the reports written in out_dir."""
    reports = []
    for row in sorted(rows, key=lambda r: r["submission"]):
        name = row.get("report") or f"{safe_name(row['submission'])}.json"
        reports.append(json.loads((Path(out_dir) / name).read_text(encoding="utf-8")))
    lines = []
    for fmt in dict.fromkeys(formats):
        if fmt == "junit":
            path = Path(out_dir) / "junit.xml"
            atomic_write_text(path, to_junit(reports))
            lines.append(f"JUnit XML: {path}")
            continue
        folder = Path(out_dir) / fmt
        folder.mkdir(exist_ok=True)
        for report in reports:
            if fmt == "gradescope":
                results = to_gradescope(report, assignment)
                validate_gradescope(results)
            else:
                results = to_prairielearn(report, assignment)
                validate_prairielearn(results)
            write_json(results, folder / f"{safe_name(report['submission'])}.json")
        lines.append(f"{'Gradescope' if fmt == 'gradescope' else 'PrairieLearn'} results: {folder}/")
    return lines


def _find_submission(path: Path):
    """The folder holding the student's modules: path itself, or its only subfolder that holds them
    (students often upload a zip of their folder). None when path is not a folder."""
    if not path.is_dir():
        return None
    modules = ("gates.py", "graph.py", "mlp.py")
    if any((path / m).is_file() for m in modules):
        return path
    try:
        inner = [p for p in path.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))
                 and any((p / m).is_file() for m in modules)]
    except OSError:
        return path
    return inner[0] if len(inner) == 1 else path


def _container_sandbox(assignment, hide):
    """The sandbox of the container modes: as root, refuse to run student code as root."""
    from .sandbox import Limits, Sandbox
    require = ("unprivileged_user",) if hasattr(os, "geteuid") and os.geteuid() == 0 else ()
    return Sandbox(Limits(**assignment.limits), hide=list(hide), require=require)


def _grade_in_container(platform, submission, results, assignment_file, seed, hide, report_file, convert, fail):
    """Grade one submission and ALWAYS write a valid results file (score 0 and a message saying what
    broke when grading itself fails). Exit status 0 when results were written, 1 when they could not be."""
    results = Path(results)
    validate = validate_gradescope if platform == "gradescope" else validate_prairielearn
    data, report, assignment = None, None, None
    try:
        results.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise GraderFailure(f"cannot create the results folder {str(results.parent)!r}: {e}") from None
    try:
        try:
            assignment = load_assignment(assignment_file)
        except AssignmentError as e:
            raise _Broken(f"the autograder is misconfigured (assignment file): {e}") from None
        root = _find_submission(Path(submission))
        name = Path(submission).name or "submission"
        if root is None:
            report = error_report(name, assignment, seed, f"no submission found: {str(submission)!r} is not a folder")
        else:
            hidden = []
            tmp = Path(tempfile.gettempdir()).resolve()
            for h in (results.parent, *hide):
                h = Path(h).resolve()
                if not h.exists():
                    click.echo(f"note: not hiding {h}: it does not exist", err=True)
                elif tmp == h or h in tmp.parents:
                    click.echo(f"note: not hiding {h}: the sandbox's private folders live under it", err=True)
                else:
                    hidden.append(h)
            try:
                report, _, trace = _batch.grade_one(root, assignment, seed, sandbox_factory=_container_sandbox,
                                                    hide=hidden)
                if trace:
                    click.echo(trace.rstrip(), err=True)
            except _batch.GraderError as e:
                report = error_report(root.name, assignment, seed, str(e))
        data = convert(report, assignment)
        validate(data)
    except Exception as e:  # noqa: BLE001 - whatever broke, the platform gets a valid file saying so
        why = str(e) if isinstance(e, _Broken) else f"internal grader error: {type(e).__name__}: {e}"
        if not isinstance(e, _Broken):
            click.echo(traceback.format_exc().rstrip(), err=True)
        click.echo(f"gradcheck {platform}: {why}", err=True)
        data = fail(why, assignment)
        validate(data)
    try:
        write_json(data, results)
    except OSError as e:
        raise GraderFailure(f"could not write {str(results)!r}: {e}") from None
    if report is not None:
        # the instructor's feedback: the run's stdout (Gradescope shows it to instructors only)
        click.echo(render_feedback(report), nl=False)
        iso = report.get("isolation")
        if isinstance(iso, dict):
            keys = ("unprivileged_user", "hidden_paths", "network_namespace", "pid_namespace", "rlimits_in_force")
            click.echo("Sandbox: " + ", ".join(f"{k}={'yes' if iso.get(k) else 'NO'}" for k in keys)
                       + "".join(f"\n  note: {n}" for n in iso.get("notes") or []))
        if report_file is not None:
            try:
                Path(report_file).parent.mkdir(parents=True, exist_ok=True)
                atomic_write_text(report_file, dumps_report(report))
            except OSError as e:
                click.echo(f"could not write the report to {str(report_file)!r}: {e}", err=True)
    click.echo(f"Results: {results}", err=True)


class _Broken(Exception):
    """Grading could not start for a reason worth saying as is."""


_CONTAINER_EXIT = """\b
Exit status:
  0  results written (also when grading failed: then they say so, score 0)
  1  the results file itself could not be written
  2  usage error in the command line itself (nothing written; the shipped
     run_autograder then writes a minimal results file)"""

_hide_option = click.option("--hide", "hide", multiple=True, type=click.Path(path_type=Path),
                            help="A path student code must not see (repeatable; missing paths are skipped). Always hidden: "
                                 "the results folder, the assignment's folder, gradcheck itself, and the "
                                 "platform's own folders (/autograder/source; /grade/tests, /grade/serverFilesCourse).")
_report_option = click.option("--report", "report_file", type=click.Path(dir_okay=False, path_type=Path),
                              default=None, help="Also write gradcheck's full (instructor) report JSON here.")


@main.command(epilog=_CONTAINER_EXIT)
@click.option("--submission", type=click.Path(path_type=Path), default=Path("/autograder/submission"),
              show_default=True, help="The student's files (or a folder holding one folder with them).")
@click.option("--results", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("/autograder/results/results.json"), show_default=True,
              help="Where Gradescope reads the results.")
@_assignment_option
@_seed_option
@click.option("--visibility", type=click.Choice(GRADESCOPE_VISIBILITIES), default="visible", show_default=True,
              help="Top-level visibility of the results (each test keeps its check's own visibility).")
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
    hide = (*(p for p in (Path("/autograder/source"),) if p.exists()), *hide)
    _grade_in_container("gradescope", submission, results, assignment_file, seed, hide, report_file,
                        lambda r, a: to_gradescope(r, a, visibility=visibility),
                        lambda why, a: gradescope_failure_results(why, a, seed=seed))


@main.command(epilog=_CONTAINER_EXIT)
@click.option("--submission", type=click.Path(path_type=Path), default=Path("/grade/student"), show_default=True,
              help="The student's files.")
@click.option("--results", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("/grade/results/results.json"), show_default=True,
              help="Where PrairieLearn reads the results.")
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
    hide = (*(p for p in (Path("/grade/tests"), Path("/grade/serverFilesCourse")) if p.exists()), *hide)
    _grade_in_container("prairielearn", submission, results, assignment_file, seed, hide, report_file,
                        lambda r, a: to_prairielearn(r, a, now_due=now_due, published=published),
                        lambda why, a: prairielearn_failure_results(why))


if __name__ == "__main__":  # python -m gradcheck.cli
    sys.exit(main())
