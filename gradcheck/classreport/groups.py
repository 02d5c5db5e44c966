"""Identical wrong answers: submissions whose failing checks returned bitwise-identical values.

A lead for the instructor to look at, never a verdict: two students who make the same classic
mistake in the same way return the same wrong numbers too. The page lists the groups in neutral
words ("these 3 submissions failed 4 checks with identical values").

Note [Identical wrong answers]
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
A failing check records ``got_digest`` in its ``details.worst`` (``checks.common.values_digest``: the
shape and float64 bytes of what the student's code returned in the failing comparison). Within one
run every submission gets the same inputs for the same check (they come from the seed and the
assignment), so equal digests of the same check mean bitwise-identical wrong values on the same
inputs. A submission's signature is the set of its failing checks that have a digest, with their
digests (and the seed and assignment hash, in case a folder holds reports of several runs); the
submissions that share a signature form a group. Checks whose failure records no returned values
(an exception, a modified argument, a training run) are not compared.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Group", "identical_answer_groups"]


@dataclass(frozen=True)
class Group:
    submissions: tuple  #: the submissions' entries (``collect.Entry``), by name
    checks: tuple  #: the check ids they failed with identical values, in report order


def identical_answer_groups(entries, order=(), min_checks=1) -> list:
    """The groups of at least two submissions sharing a signature of at least ``min_checks`` checks
    (Note [Identical wrong answers]); the groups with more checks first, then the larger ones. Each
    group's checks in ``order`` (the check ids in report order), then by id."""
    rank = {cid: i for i, cid in enumerate(order)}
    by_signature = {}
    for e in entries:
        if e.status != "graded" or len(e.digests) < min_checks:
            continue
        key = (e.seed, e.assignment_hash, frozenset(e.digests.items()))
        by_signature.setdefault(key, []).append(e)
    groups = []
    for members in by_signature.values():
        if len(members) < 2:
            continue
        checks = tuple(sorted(members[0].digests, key=lambda cid: (rank.get(cid, len(rank)), cid)))
        groups.append(Group(tuple(sorted(members, key=lambda e: e.name)), checks))
    groups.sort(key=lambda g: (-len(g.checks), -len(g.submissions), g.submissions[0].name))
    return groups
