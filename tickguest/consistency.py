"""Whether a report holds together: its plan, points, YAML and exit line against
docs/report.md and against the status the run ended with."""

from __future__ import annotations

from .status import STATUS_NAMES, STATUS_NO_VERDICT, STATUS_TIMEOUT
from .tap import Tap



def check_consistent(result, status: int = None) -> list:
    """Problems that make a report contradict docs/report.md or its own exit status; [] when it
    holds together.  Takes a Result, or a Tap with the status to hold it to."""
    tap = result if isinstance(result, Tap) else result.tap
    if status is None:
        status = result.status
    problems = []
    if tap.version is None:
        return ["no 'TAP version 13' line on the serial port"]
    if tap.version != 13:
        problems.append(f"TAP version {tap.version}, expected 13")
    problems += tap.errors

    numbers = [t.number for t in tap.tests]
    if numbers != list(range(1, len(numbers) + 1)):
        problems.append(f"test numbers are {numbers}, expected 1..{len(numbers)} in order")
    if len(tap.bail_outs) > 1:
        problems.append(f"{len(tap.bail_outs)} 'Bail out!' lines")
    if not tap.bail_outs:
        if tap.plan is None:
            problems.append("no plan line")
        elif tap.plan != len(tap.tests):
            problems.append(f"plan 1..{tap.plan} but {len(tap.tests)} tests")

    if tap.exit_line is None:
        problems.append("no '# exit: WORD (status N)' line")
    else:
        word, n = tap.exit_line
        if n != status:
            problems.append(f"exit line says status {n} but the guest's status is {status}")
        if n in STATUS_NAMES and n not in (STATUS_TIMEOUT, STATUS_NO_VERDICT) \
                and word != STATUS_NAMES[n]:
            problems.append(f"exit line calls status {n} {word!r}, expected {STATUS_NAMES[n]!r}")

    failed = tap.failed()
    tested = [t for t in tap.tests if t.directive != "SKIP"]
    if status == 0:
        if failed:
            problems.append(f"status 0 with {len(failed)} 'not ok' checks")
        if tap.bail_outs:
            problems.append("status 0 after 'Bail out!'")
        if not tested:
            problems.append("status 0 but nothing was tested (that is status 77)")
    elif status == 1 and not failed:
        problems.append("status 1 (failed) but no check is 'not ok'")
    elif status in (2, 3, 4) and not tap.bail_outs:
        problems.append(f"status {status} without a 'Bail out!' line")
    elif status == 77 and (tested or failed):
        problems.append("status 77 (skipped) but some checks were not skipped")
    if failed and status not in (1, 3, 4, STATUS_TIMEOUT, STATUS_NO_VERDICT):
        problems.append(f"{len(failed)} 'not ok' checks but status {status}")
    return problems
