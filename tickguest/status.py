"""The statuses a run ends with (docs/exit-status.md): the guest's own, which it writes to
QEMU's isa-debug-exit port, and the two only the host gives (124, 125)."""

from typing import Optional


# The statuses of docs/exit-status.md, by number.  124 and 125 are given by the host side only.
STATUS_NAMES = {
    0: "passed",
    1: "failed",
    2: "bad configuration",
    3: "panic",
    4: "device failed",
    77: "skipped",
    124: "timeout",
    125: "no verdict",
}
STATUS_TIMEOUT = 124
STATUS_NO_VERDICT = 125


def decode_status(qemu_rc: Optional[int], timed_out: bool = False, verdict_seen: bool = True) -> int:
    """The guest's status from QEMU's exit code, which isa-debug-exit makes (status << 1) | 1.

    QEMU's own failures (a missing kernel, a bad option) also exit with 1, which would read as
    "passed"; so 1 only counts as status 0 when the guest printed its `# exit:` line
    (verdict_seen).  Even codes, 0 included, a signal or no code at all mean there was no
    verdict: 125.  A run the host had to kill is 124.
    """
    if timed_out:
        return STATUS_TIMEOUT
    if qemu_rc is None or qemu_rc <= 0 or qemu_rc % 2 == 0:
        return STATUS_NO_VERDICT
    if qemu_rc == 1 and not verdict_seen:
        return STATUS_NO_VERDICT
    return (qemu_rc - 1) >> 1


def status_name(status: int) -> str:
    return STATUS_NAMES.get(status, "unknown")
