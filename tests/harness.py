"""Boot tickguest under QEMU, capture its serial report and read it as TAP.

The report format is docs/report.md and the statuses are docs/exit-status.md; this module is the
host side of both.  It is shared by the pytest suites and scripts/run-guest, so it keeps to the
standard library plus PyYAML (Debian's python3-yaml).

Design notes, for the work that builds on this:
  * Guest keeps its Popen handle (`Guest.proc`) and QEMU runs in its own process group, so the
    whole group can be signalled: killed at the end, and later paused with SIGSTOP/SIGCONT.
  * Serial output is read by a thread as it arrives and every line is stamped with
    time.monotonic(), so host-side timing can be compared with what the guest reports.
  * Nothing is left running: the group is killed in __exit__, by an atexit hook for every guest
    still alive, and (where setpriv exists) by the kernel itself if this process dies.
  * Pauses are planned by schedules (FixedPauses, RandomPauses, OnePause: plain data) and
    applied by Guest.run_pauses from a thread, with SIGSTOP or QMP stop; what was applied is
    kept in host monotonic time beside the serial lines, and the vCPU thread's CPU time is
    sampled (sample_vcpu=True), so the guest's figures can be held to what the host did.
  * Host load that leaves the VM runnable but without the CPU (a CPU cap, contention for the
    vCPU's CPU: tests/host_steal.py) is applied by Guest.run_host_steal the same way, from a
    thread between a serial line and a horizon; the vCPU thread's run-queue wait
    (vcpu_runqueue_wait_s) is what the guest should see of it as stolen time.
"""

from __future__ import annotations

import contextlib
import json
import itertools
import math
import os
import random
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Optional

import yaml

# The host loads run_host_steal applies, here beside the pause schedules for the tests' sake.
from host_steal import Contention, CpuCap, ExitSet, HostSteal  # noqa: F401

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

DEBUG_EXIT_DEVICE = "isa-debug-exit,iobase=0xf4,iosize=0x04"

# QEMU arguments the tests share.  RTC_SLEW: QEMU's RTC delivers the periodic interrupts it
# could not deliver in time afterwards, fast: the catch-up device of the experiment.
# ICOUNT_ARGS: every clock derives from the instruction count and the RTC starts from a fixed
# base (a leap day, a minute before midnight), so runs are deterministic and no tick is late.
RTC_SLEW = ["-rtc", "driftfix=slew"]
def icount_args(shift: int = 4) -> list:
    """Deterministic mode with 2**shift ns an instruction (QEMU's -icount shift=)."""
    return ["-icount", f"shift={shift},sleep=off", "-rtc", "base=2024-02-29T23:59:58,clock=vm"]


ICOUNT_ARGS = icount_args()

# Timeouts live here so that the tests and scripts/run-guest agree.  A guest's clock follows the
# host's under TCG, so a run takes about its configured duration; the rest is for QEMU, firmware,
# TSC calibration and the device checks on a busy two-core machine (45 s; the device checks take
# about 25 s when every window is clean), for the device checks' windows measured again on a
# loaded host (their windows come to about 12 s, and each is tried up to window_tries = 4 times:
# 36 s more), and for GRUB's menu on an ISO boot.
DEFAULT_DURATION_S = 5.0          # CONFIG_DURATION_DEFAULT_US
BOOT_ALLOWANCE_S = 45.0 + 36.0
GRUB_ALLOWANCE_S = 60.0
DURATION_FACTOR = 3.0


# OVMF under TCG takes about 10 s to reach GRUB on an idle host.
UEFI_ALLOWANCE_S = 40.0


def timeout_for(duration_s: float = DEFAULT_DURATION_S, iso: bool = False,
                uefi: bool = False) -> float:
    """How long to wait for a run of duration_s before calling it hung (status 124)."""
    t = BOOT_ALLOWANCE_S + DURATION_FACTOR * duration_s
    return t + (GRUB_ALLOWANCE_S if iso else 0) + (UEFI_ALLOWANCE_S if uefi else 0)


# UEFI firmware for Guest(firmware="uefi"): Debian's ovmf package, or TICKGUEST_OVMF.
OVMF_PATHS = ("/usr/share/ovmf/OVMF.fd", "/usr/share/qemu/OVMF.fd")


def ovmf_path() -> Optional[str]:
    """The OVMF image QEMU's -bios takes (code and variables in one file), or None."""
    for path in filter(None, (os.environ.get("TICKGUEST_OVMF"), *OVMF_PATHS)):
        if os.path.isfile(path):
            return path
    return None


_DURATION_RE = re.compile(r"(?:^|\s)duration=(\d+(?:\.\d+)?)(us|ms|s|m|min|h)(?=\s|$)")
_UNIT_S = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


def cmdline_duration_s(cmdline: str) -> float:
    """The run length a command line asks for, only to size a timeout; the guest is the judge
    of what is valid, so anything unreadable counts as the default."""
    m = None
    for m in _DURATION_RE.finditer(cmdline or ""):
        pass
    if m is None:
        return DEFAULT_DURATION_S
    return float(m.group(1)) * _UNIT_S[m.group(2)]


# --------------------------------------------------------------------------------------------
# Host environment


def qemu_binary() -> str:
    return os.environ.get("QEMU") or "qemu-system-x86_64"


def kvm_available() -> tuple[bool, str]:
    """Whether -accel kvm can work here.  Only a cheap probe: TCG is what everything uses by
    default, KVM is an opt-in that should fail with a reason rather than a QEMU error."""
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError as e:
        return False, f"/dev/kvm: {e.strerror}"
    os.close(fd)
    return True, "/dev/kvm opens read-write"


_kvm_runs: dict = {}


def kvm_runs_guest(kernel) -> tuple[bool, str]:
    """Whether KVM here runs the guest to a verdict: kvm_available(), then one short boot.  On
    the nested kvm-pvm hosts of this project the guest takes #GP on the CR0 write that turns
    paging on, with EFER 0 and CR4.PAE clear: a valid write (docs/platforms.md), so the reason
    names the host.  Asked once per kernel."""
    if kernel in _kvm_runs:
        return _kvm_runs[kernel]
    ok, why = kvm_available()
    if ok:
        r = run(kernel=kernel, cmdline="suite=accounting duration=1s", accel="kvm", timeout=60)
        ok = r.status in (0, 1)
        why = "KVM runs the guest" if ok else \
            f"KVM here does not run the guest: {r.tap.bail_out or status_name(r.status)}"
    _kvm_runs[kernel] = (ok, why)
    return ok, why


# --------------------------------------------------------------------------------------------
# Serial text

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), charset selection (ESC ( B) and the other
# two-byte escapes that GRUB and SeaBIOS send to draw their menus.
_ANSI_RE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[()*+][0-9A-Za-z]"
    r"|\x1b[0-~]"
    r"|\x9b[0-?]*[ -/]*[@-~]"
)
# What is left of control characters after that (\r, SI/SO, NUL, a lone ESC) is never text.
_CTRL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_line(line) -> str:
    """One serial line as text: bytes are decoded as UTF-8 with replacement (the kernel sends
    ASCII; firmware may not), then escapes and control characters, \\r included, are dropped."""
    if isinstance(line, (bytes, bytearray)):
        line = bytes(line).decode("utf-8", errors="replace")
    return _CTRL_RE.sub("", _ANSI_RE.sub("", line))


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


# --------------------------------------------------------------------------------------------
# TAP


@dataclass
class TapTest:
    number: Optional[int]
    ok: bool
    description: str
    directive: Optional[str] = None      # 'SKIP', 'TODO' or None
    reason: Optional[str] = None         # the text after the directive
    yaml: Optional[dict] = None          # the block after the line; {} for an empty one
    line: str = ""

    @property
    def failed(self) -> bool:
        """TAP's meaning: a directive excuses a `not ok` (prove agrees)."""
        return not self.ok and self.directive is None


@dataclass
class Tap:
    version: Optional[int] = None
    comments: list = field(default_factory=list)         # every comment, '#' and one space gone
    header_comments: list = field(default_factory=list)  # those before the first test/plan/bail
    banner: dict = field(default_factory=dict)           # header comments of the form key: value
    tests: list = field(default_factory=list)
    plan: Optional[int] = None
    bail_outs: list = field(default_factory=list)        # reasons, in order
    exit_line: Optional[tuple] = None                    # (word, status) from `# exit: ...`
    errors: list = field(default_factory=list)           # lines that break the format
    offset: Optional[int] = None                         # index of the header among the input lines

    @property
    def bail_out(self) -> Optional[str]:
        return self.bail_outs[0] if self.bail_outs else None

    @property
    def limits(self) -> dict:
        """The device checks' limits as the guest printed them (checks/limits.h): the host
        holds figures to these rather than to copies of its own.  {name: int}."""
        text = self.banner.get("limits", "")
        return {k: int(v) for k, v in (item.split() for item in text.split(",") if item.strip())}

    def test(self, prefix: str) -> TapTest:
        """The first test whose description starts with prefix.  Raises KeyError naming what
        there is, because a missing check is itself the interesting failure."""
        for t in self.tests:
            if t.description.startswith(prefix):
                return t
        have = "; ".join(t.description for t in self.tests) or "no tests"
        raise KeyError(f"no test starting with {prefix!r} (have: {have})")

    def failed(self) -> list:
        return [t for t in self.tests if t.failed]

    def passed_all(self) -> bool:
        return (self.version is not None and not self.bail_outs and not self.errors
                and self.plan == len(self.tests) and not self.failed())


_HEADER_RE = re.compile(r"TAP version (\d+)\s*$")
_TEST_RE = re.compile(r"^(not\s+)?ok\b(?:\s+(\d+)\b)?(?:\s*-)?\s*(.*)$")
_DIRECTIVE_RE = re.compile(r"^(.*?)\s*(?<!\\)#\s*(skip|todo)\S*(?:\s+(.*?))?\s*$", re.IGNORECASE)
_PLAN_RE = re.compile(r"^1\.\.(\d+)\s*(?:#.*)?$")
_BAIL_RE = re.compile(r"^Bail out!\s*(.*?)\s*$")
_YAML_START_RE = re.compile(r"^(\s+)---\s*$")
_YAML_END_RE = re.compile(r"^\s+\.\.\.\s*$")
_BANNER_RE = re.compile(r"^([A-Za-z][A-Za-z0-9 _.-]*?):(?:\s+(.*?))?\s*$")
_EXIT_RE = re.compile(r"^exit:\s*(.*?)\s*\(status\s+(-?\d+)\)\s*$")


def _load_yaml(block: list, where: str, tap: Tap) -> Optional[dict]:
    try:
        data = yaml.safe_load("\n".join(block))
    except yaml.YAMLError as e:
        tap.errors.append(f"{where}: bad YAML block: {e}")
        return None
    if data is None:
        return {}
    if not isinstance(data, dict):
        tap.errors.append(f"{where}: YAML block is a {type(data).__name__}, not a mapping")
        return None
    return data


def parse_tap(text) -> Tap:
    """Read a serial capture (a string or a list of lines) as TAP version 13.

    Pure and lenient: lines before the header are someone else's (GRUB, SeaBIOS), escapes and
    \\r are dropped, and whatever breaks the format is listed in Tap.errors instead of raising,
    so a broken report still yields everything that can be read from it.
    """
    lines = text.split("\n") if isinstance(text, str) else list(text)
    lines = [clean_line(l) for l in lines]
    tap = Tap()

    start = None
    for i, line in enumerate(lines):
        m = _HEADER_RE.search(line)
        if m:
            start, tap.version, tap.offset = i, int(m.group(1)), i
            break
    if start is None:
        return tap

    in_header = True          # before the first test, plan or bail out: banner territory
    last_test = None          # a YAML block may follow only this, and only at once
    block = None              # (indent, first line number, lines) of an open YAML block
    exit_seen = False
    plan_at = None            # how many tests had been seen when the plan came

    def where(n):
        return f"line {n + 1}"

    for n in range(start + 1, len(lines)):
        line = lines[n]
        if block is not None:
            indent, first, body = block
            if _YAML_END_RE.match(line):
                last_test.yaml = _load_yaml(body, where(first), tap)
                block, last_test = None, None
                continue
            if not line.strip() or line.startswith(indent):
                body.append(line[len(indent):] if line.startswith(indent) else "")
                continue
            tap.errors.append(f"{where(first)}: YAML block not closed with '...'")
            last_test.yaml = _load_yaml(body, where(first), tap)
            block, last_test = None, None
            # and read this line as what it is

        if not line.strip():
            continue
        m = _YAML_START_RE.match(line)
        if m:
            if last_test is None:
                tap.errors.append(f"{where(n)}: YAML block not after a test line")
                last_test = TapTest(None, True, "")   # swallow it, attached to nothing
            block = (m.group(1), n, [])
            continue
        last_test = None

        m = _TEST_RE.match(line)
        if m:
            in_header = False
            desc, directive, reason = m.group(3).strip(), None, None
            d = _DIRECTIVE_RE.match(desc)
            if d:
                desc, directive, reason = d.group(1), d.group(2).upper(), d.group(3) or None
            t = TapTest(int(m.group(2)) if m.group(2) else None, m.group(1) is None,
                        desc, directive, reason, None, line)
            if exit_seen:
                tap.errors.append(f"{where(n)}: test line after the exit line")
            elif tap.bail_outs:
                tap.errors.append(f"{where(n)}: test line after Bail out!")
            elif plan_at is not None and plan_at > 0:
                tap.errors.append(f"{where(n)}: test line after a trailing plan")
            tap.tests.append(t)
            last_test = t
            continue
        m = _PLAN_RE.match(line)
        if m:
            in_header = False
            if tap.plan is not None:
                tap.errors.append(f"{where(n)}: second plan {line!r}")
            else:
                tap.plan, plan_at = int(m.group(1)), len(tap.tests)
            continue
        m = _BAIL_RE.match(line)
        if m:
            in_header = False
            tap.bail_outs.append(m.group(1))
            continue
        if line.startswith("#"):
            c = line[1:].strip()
            tap.comments.append(c)
            if c.startswith("exit:"):
                e = _EXIT_RE.match(c)
                if not e:
                    tap.errors.append(f"{where(n)}: malformed exit line {line!r}")
                else:
                    if exit_seen:
                        tap.errors.append(f"{where(n)}: second exit line")
                    tap.exit_line, exit_seen = (e.group(1), int(e.group(2))), True
                continue
            if in_header:
                tap.header_comments.append(c)
                b = _BANNER_RE.match(c)
                if b:
                    tap.banner[b.group(1)] = b.group(2) or ""
            continue
        if _HEADER_RE.search(line):
            tap.errors.append(f"{where(n)}: second TAP header (did the guest restart?)")
            continue
        tap.errors.append(f"{where(n)}: not TAP: {line!r}")

    if block is not None:
        indent, first, body = block
        tap.errors.append(f"{where(first)}: YAML block not closed with '...'")
        last_test.yaml = _load_yaml(body, where(first), tap)
    return tap


# --------------------------------------------------------------------------------------------
# Pause schedules
#
# A schedule says when the host takes the CPU away from the guest, as plain data: offsets and
# lengths in host seconds, counted from the moment the schedule starts (Guest.run_pauses starts
# it at a serial line).  Each is a cycle of running then pausing; steal_fraction is the share of
# a cycle spent paused, so over whole cycles it is the share of wall time the guest loses.

# Slack for comparing sums of floats with a horizon: 1 ns, far below any timer's resolution.
_HORIZON_SLACK_S = 1e-9


def _require(ok: bool, who: str, message: str) -> None:
    if not ok:
        raise ValueError(f"{who}: {message}")


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


class PauseSchedule:
    """What every schedule offers.  pauses(until_s) yields (offset_s, length_s) in increasing
    order of offset, never overlapping, each ending by until_s: the caller picks the horizon to
    leave the end of the run unpaused (about a second, so the guest's last figures come from a
    clock that has settled)."""

    @property
    def steal_fraction(self) -> float:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def _generate(self, until_s: float) -> Iterator[tuple]:
        raise NotImplementedError

    def pauses(self, until_s: float) -> Iterator[tuple]:
        """The pauses that end by until_s seconds after the start.  The horizon is checked here,
        at the call, not at the first next(): a bad argument should fail where it was given."""
        _require(_finite(until_s) and until_s >= 0, type(self).__name__,
                 f"the horizon until_s must be a finite number of seconds >= 0, got {until_s!r}")
        return self._generate(float(until_s))

    def paused_s(self, until_s: float) -> float:
        """How long the pauses up to until_s add up to."""
        return sum(length for _, length in self.pauses(until_s))


@dataclass(frozen=True)
class FixedPauses(PauseSchedule):
    """A pause of period_s * duty at the end of every period_s: the guest runs first, then
    stops, so the first pause comes after it has done some work and every whole period has
    exactly the same share paused (duty)."""
    period_s: float
    duty: float

    def __post_init__(self):
        who = "FixedPauses"
        _require(_finite(self.period_s) and self.period_s > 0, who,
                 f"period_s must be a finite number of seconds > 0, got {self.period_s!r}")
        _require(_finite(self.duty) and 0 < self.duty < 1, who,
                 f"duty is the paused share of a period and must lie strictly between 0 and 1, "
                 f"got {self.duty!r}")

    @property
    def length_s(self) -> float:
        return self.period_s * self.duty

    @property
    def steal_fraction(self) -> float:
        return self.duty

    def describe(self) -> str:
        return (f"a {self.length_s * 1000:g} ms pause every {self.period_s * 1000:g} ms "
                f"({self.duty * 100:g}% steal)")

    def _generate(self, until_s):
        k = 1
        # Offsets from k * period (not by adding up periods), so no error builds up.
        while k * self.period_s <= until_s + _HORIZON_SLACK_S:
            yield (k * self.period_s - self.length_s, self.length_s)
            k += 1


@dataclass(frozen=True)
class RandomPauses(PauseSchedule):
    """Pauses arriving at random, the way a host's other load takes the CPU: gap, pause, gap,
    pause ... with each gap and each pause drawn from an exponential distribution shifted by a
    floor.  A pause is min_pause_s + Exp(mean mean_pause_s - min_pause_s) so its mean is
    mean_pause_s exactly and none is too short to tell from host noise; gaps likewise with
    min_gap_s, so the guest always runs a little between two pauses and they stay two.

    The draws come from random.Random(seed), created afresh at each pauses() call, in the
    order gap, pause, gap, pause: the same seed gives the same schedule, and a shorter horizon
    gives a prefix of a longer one's."""
    seed: object
    mean_pause_s: float
    mean_gap_s: float
    min_pause_s: float = 0.05
    min_gap_s: float = 0.05

    def __post_init__(self):
        who = "RandomPauses"
        _require(self.seed is not None and isinstance(self.seed, (int, str, bytes)), who,
                 f"seed must be an int, str or bytes (None would draw a different schedule "
                 f"every time), got {self.seed!r}")
        for name in ("min_pause_s", "min_gap_s"):
            v = getattr(self, name)
            _require(_finite(v) and v >= 0, who,
                     f"{name} must be a finite number of seconds >= 0, got {v!r}")
        _require(_finite(self.mean_pause_s) and self.mean_pause_s > 0, who,
                 f"mean_pause_s must be a finite number of seconds > 0, got "
                 f"{self.mean_pause_s!r}")
        _require(_finite(self.mean_gap_s) and self.mean_gap_s > 0, who,
                 f"mean_gap_s must be a finite number of seconds > 0, got {self.mean_gap_s!r}")
        _require(self.mean_pause_s >= self.min_pause_s, who,
                 f"mean_pause_s ({self.mean_pause_s!r}) cannot be below min_pause_s "
                 f"({self.min_pause_s!r})")
        _require(self.mean_gap_s >= self.min_gap_s, who,
                 f"mean_gap_s ({self.mean_gap_s!r}) cannot be below min_gap_s "
                 f"({self.min_gap_s!r})")

    @property
    def steal_fraction(self) -> float:
        # Long-run share (renewal reward): mean pause over mean cycle.
        return self.mean_pause_s / (self.mean_pause_s + self.mean_gap_s)

    def describe(self) -> str:
        return (f"random pauses (seed {self.seed!r}): {self.mean_pause_s * 1000:g} ms on average "
                f"(at least {self.min_pause_s * 1000:g}), {self.mean_gap_s * 1000:g} ms apart "
                f"on average (at least {self.min_gap_s * 1000:g}), "
                f"{self.steal_fraction * 100:.3g}% steal")

    @staticmethod
    def _draw(rng: random.Random, floor: float, mean: float) -> float:
        return floor + (rng.expovariate(1.0 / (mean - floor)) if mean > floor else 0.0)

    def _generate(self, until_s):
        rng = random.Random(self.seed)
        t = 0.0
        while True:
            offset = t + self._draw(rng, self.min_gap_s, self.mean_gap_s)
            length = self._draw(rng, self.min_pause_s, self.mean_pause_s)
            if offset + length > until_s + _HORIZON_SLACK_S:
                return
            yield (offset, length)
            t = offset + length


@dataclass(frozen=True)
class OnePause(PauseSchedule):
    """One pause of length_s, at_s after the start: a single long descheduling, such as a
    host migrating the VM or swapping it out.  Its cycle is the run up to the pause and the
    pause itself, so steal_fraction is length_s / (at_s + length_s)."""
    at_s: float
    length_s: float

    def __post_init__(self):
        who = "OnePause"
        _require(_finite(self.at_s) and self.at_s >= 0, who,
                 f"at_s must be a finite number of seconds >= 0, got {self.at_s!r}")
        _require(_finite(self.length_s) and self.length_s > 0, who,
                 f"length_s must be a finite number of seconds > 0, got {self.length_s!r}")

    @property
    def steal_fraction(self) -> float:
        return self.length_s / (self.at_s + self.length_s)

    def describe(self) -> str:
        return f"one {self.length_s * 1000:g} ms pause at {self.at_s * 1000:g} ms"

    def _generate(self, until_s):
        if self.at_s + self.length_s <= until_s + _HORIZON_SLACK_S:
            yield (self.at_s, self.length_s)


# --------------------------------------------------------------------------------------------
# Running a guest


@dataclass
class Result:
    argv: list
    lines: list            # (monotonic time, text) from the TAP header on
    all_lines: list        # (monotonic time, text) of everything, firmware noise included
    raw: str               # serial output as received, decoded but not cleaned
    qemu_rc: Optional[int]
    status: int
    timed_out: bool
    stderr: str
    tap: Tap
    started: float         # monotonic time QEMU was started
    duration: float        # seconds until QEMU exited or was killed

    @property
    def status_name(self) -> str:
        return status_name(self.status)

    @property
    def text(self) -> str:
        return "\n".join(t for _, t in self.lines)

    def summary(self, tail: int = 40) -> str:
        """What an assertion message needs to tell why a run went wrong."""
        out = [f"command: {' '.join(self.argv)}",
               f"status {self.status} ({self.status_name}), qemu rc {self.qemu_rc}, "
               f"{self.duration:.1f} s{', timed out' if self.timed_out else ''}"]
        if self.tap.errors:
            out.append("TAP errors: " + "; ".join(self.tap.errors[:10]))
        # the serial tail below may not reach back to them
        failed = self.tap.failed()
        if failed:
            out.append(f"failed checks ({len(failed)}): " +
                       "; ".join(t.line.strip() for t in failed[:10]))
            # each one's figures, which the tail may not reach either
            for t in failed[:10]:
                if t.yaml:
                    out.append(f"  {t.number}: " + ", ".join(f"{k}: {v}" for k, v in t.yaml.items()))
        if self.stderr.strip():
            out.append("stderr:\n" + "\n".join(self.stderr.rstrip().splitlines()[-tail:]))
        shown = self.all_lines[-tail:]
        out.append(f"serial (last {len(shown)} of {len(self.all_lines)} lines):")
        out.extend("  " + t for _, t in shown)
        return "\n".join(out)


# --------------------------------------------------------------------------------------------
# QMP, QEMU's machine protocol


class QMPError(Exception):
    """QEMU answered a QMP command with an error, or the connection broke."""


class QMPClient:
    """Just enough QMP for the harness: connect to a UNIX socket, read the greeting, leave
    negotiation mode with qmp_capabilities, then execute one command at a time.

    QMP is one JSON object a line.  QEMU may send an event ({"event": ...}) at any time, e.g.
    STOP and RESUME around a stop/cont; they are kept in .events and skipped while waiting for
    a reply.  Every command carries an id, and a reply with another id (left over from a
    command whose wait timed out) is skipped too, so a reply is never taken for the wrong
    command.  Thread-safe: one command at a time."""

    def __init__(self, path: str, timeout: float = 10.0):
        self.events: list = []
        self._buf = b""
        self._next_id = 0
        self._lock = threading.Lock()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.settimeout(timeout)
            self.sock.connect(path)
            self.greeting = self._read()
            if "QMP" not in self.greeting:
                raise QMPError(f"not a QMP greeting: {self.greeting!r}")
            self.execute("qmp_capabilities")
        except BaseException:
            self.sock.close()
            raise

    def _read(self) -> dict:
        while b"\n" not in self._buf:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise QMPError(f"no answer from QEMU in {self.sock.gettimeout():g} s") from None
            except OSError as e:
                raise QMPError(f"QMP connection failed: {e}") from e
            if not chunk:
                raise QMPError("QEMU closed the QMP connection")
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        try:
            return json.loads(line)
        except ValueError as e:
            raise QMPError(f"QEMU sent something that is not JSON: {line!r}") from e

    def execute(self, cmd: str, **args):
        """Run cmd with args; returns the reply's "return" value, raises QMPError on an error
        reply."""
        with self._lock:
            self._next_id += 1
            msg = {"execute": cmd, "id": self._next_id}
            if args:
                msg["arguments"] = args
            try:
                self.sock.sendall(json.dumps(msg).encode() + b"\r\n")
            except OSError as e:
                raise QMPError(f"QMP {cmd}: cannot send: {e}") from e
            while True:
                reply = self._read()
                if "event" in reply:
                    self.events.append(reply)
                elif reply.get("id") != self._next_id:
                    continue
                elif "error" in reply:
                    err = reply["error"]
                    raise QMPError(f"QMP {cmd}: {err.get('class')}: {err.get('desc')}")
                else:
                    return reply.get("return")

    def shutdown(self) -> None:
        """Wake a thread blocked on the socket (close() alone would not) and end the session."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self) -> None:
        self.shutdown()
        self.sock.close()


class PauseThreadError(RuntimeError):
    """The thread applying a pause schedule failed; raised by Guest.wait(), chained to the
    thread's own exception, with the run's Result as .result."""
    result = None


class HostStealError(PauseThreadError):
    """The thread applying host load (Guest.run_host_steal) failed, or lifting the load did;
    raised like PauseThreadError, of which it is a kind, so one except catches either."""


# Host-side figures of pausing and sampling.
UNPAUSED_TAIL_S = 1.0        # run_pauses' default horizon leaves this much of the run unpaused
RUNNING_LINE = r"^# running \d+ tasks"   # where run_pauses and run_host_steal start by default
QMP_CONNECT_S = 10.0         # how long Guest.qmp waits for QEMU's socket to appear
VCPU_SAMPLE_PERIOD_S = 0.01  # sample_vcpu's period
SAMPLER_LATE_S = 0.001       # a sampler round woken later than this counts (host_frozen_s)

_VCPU_NAME_RE = re.compile(r"^CPU (\d+)/(?:TCG|KVM)$")


def host_steal_ticks() -> tuple:
    """(steal, cpus): the host's own stolen time so far, summed over its CPUs, in USER_HZ
    ticks (/proc/stat's eighth column), and how many CPUs the sum is over.  The host is itself
    a virtual machine here: while its hypervisor holds one of its vCPUs the guest's clock goes
    on, and whether the host's scheduler leaves that time out of a thread's on-CPU figure
    depends on its kernel (paravirtual steal accounting), so an upper bound adds it either way.
    (0, 0) where /proc/stat has no steal."""
    try:
        with open("/proc/stat") as f:
            rows = [line.split() for line in f if re.match(r"cpu\d+ ", line)]
    except OSError:
        return 0, 0
    rows = [r for r in rows if len(r) > 8]
    return sum(int(r[8]) for r in rows), len(rows)


def host_tick_s() -> float:
    """The host kernel's scheduler tick, from its build configuration (CONFIG_HZ), or 10 ms,
    the longest Linux offers (HZ=100), when that cannot be read.  /proc brings a running
    thread's on-CPU time up to date at the scheduler's tick and at switches, so a sample of it
    can be short by up to one tick."""
    release = os.uname().release
    for path in (f"/boot/config-{release}", "/proc/config.gz"):
        try:
            if path.endswith(".gz"):
                import gzip
                with gzip.open(path, "rt") as f:
                    text = f.read()
            else:
                with open(path) as f:
                    text = f.read()
        except OSError:
            continue
        m = re.search(r"^CONFIG_HZ=(\d+)$", text, re.MULTILINE)
        if m and int(m.group(1)) > 0:
            return 1.0 / int(m.group(1))
    return 0.01


def _kernel_ns(stat: str) -> int:
    """A /proc/PID/task/TID/stat line's stime in ns: the thread's CPU time in the kernel, in
    USER_HZ ticks.  The kernel splits the thread's exact run time between user and kernel in
    the proportion its scheduler ticks found it in each (cputime_adjust), so the figure is a
    sample, not a measurement: see Guest.vcpu_kernel_s for what that allows."""
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[12]) * 1_000_000_000 // os.sysconf("SC_CLK_TCK")


def _own_schedstat() -> tuple:
    """The calling thread's (on-CPU ns, run-queue ns) from /proc/thread-self/schedstat, or
    (0, 0) where the kernel keeps none."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            run, wait = f.read().split()[:2]
        return int(run), int(wait)
    except (OSError, ValueError):
        return 0, 0


def vcpu_thread_name(times: dict) -> Optional[str]:
    """The first vCPU's thread among thread_times()'s names: "CPU 0/TCG" under TCG, "CPU 0/KVM"
    under KVM (QEMU names them so with -name debug-threads=on), the lowest number if there are
    several; None if there is none (yet)."""
    found = [(int(m.group(1)), n) for n in times if (m := _VCPU_NAME_RE.match(n))]
    return min(found)[1] if found else None


_live = ExitSet(lambda g: g.kill())


class Guest:
    """One QEMU run of tickguest.  Use it as a context manager: leaving the block, however that
    happens, kills QEMU's process group.

        with Guest(kernel="build/tickguest.elf", cmdline="hz=100", timeout=60) as g:
            result = g.wait()

    kernel= boots the ELF by QEMU's -kernel (Multiboot v1, SeaBIOS), iso= an ISO through GRUB
    (Multiboot2); firmware="uefi" boots the ISO under OVMF instead of SeaBIOS.

    on_line(t, text) is called from the reader thread for every cleaned serial line, noise
    included, as it arrives (scripts/run-guest streams with it).  If setpriv is installed QEMU
    also gets SIGKILL when the thread that started it dies, so start it from a thread that
    lives as long as the guest (the main thread, normally).

    Acting on the run, and watching it from the host:
      * qmp=True gives QEMU a QMP socket; Guest.qmp(cmd, **args) runs a command on it.
      * run_pauses(schedule) pauses QEMU on a schedule from a background thread, by SIGSTOP or
        by QMP stop, and records what it applied in Guest.pauses.
      * run_host_steal(steal) applies a CpuCap or a Contention (tests/host_steal.py) from a
        background thread, between a serial line and a horizon, and records when in
        Guest.host_steal_window.
      * sample_vcpu=True samples the CPU time of QEMU's threads every 10 ms (Guest.vcpu_samples
        for the vCPU, Guest.thread_samples for all); vcpu_off_cpu_s() turns the samples into
        the time the vCPU could not run, runqueue_wait_s() into the time the threads waited,
        vcpu_runqueue_wait_s() into the time the vCPU waited, vcpu_timeslices() into how
        many times it was given the CPU, vcpu_kernel_s() into its time in the host kernel.
    All of it uses time.monotonic(), the clock the serial lines are stamped with.
    """

    def __init__(self, kernel=None, iso=None, cmdline: str = "", machine: str = "pc",
                 accel: str = "tcg", extra_args: Iterable[str] = (), timeout: float = None,
                 memory: str = "64M", on_line: Callable[[float, str], None] = None,
                 qemu: str = None, debug_exit: bool = True, qmp: bool = False,
                 sample_vcpu: bool = False, firmware: str = "bios"):
        if (kernel is None) == (iso is None):
            raise ValueError("give exactly one of kernel= and iso=")
        if iso is not None and cmdline:
            raise ValueError("an ISO boots GRUB's menu entry; its command line is in grub.cfg "
                             "(tests/isos.py makes one with the command line you want)")
        if firmware not in ("bios", "uefi"):
            raise ValueError(f"firmware is 'bios' or 'uefi', not {firmware!r}")
        # QEMU's -kernel loads Multiboot (v1) through an option ROM of its BIOS; OVMF has none
        if firmware == "uefi" and iso is None:
            raise ValueError("a UEFI boot needs an ISO: OVMF cannot start a -kernel image")
        self.kernel, self.iso, self.cmdline, self.firmware = kernel, iso, cmdline, firmware
        self.timeout = timeout if timeout is not None else timeout_for(
            cmdline_duration_s(cmdline), iso=iso is not None, uefi=firmware == "uefi")
        self.on_line = on_line
        argv = [qemu or qemu_binary(),
                "-machine", f"{machine},accel={accel}", "-m", str(memory),
                "-display", "none", "-vga", "none", "-monitor", "none",
                "-serial", "stdio", "-no-reboot",
                # named threads ("CPU 0/TCG"), so thread_times() can tell the vCPU apart
                "-name", "tickguest,debug-threads=on"]
        # Without the device the guest must leave another way (ACPI soft-off, or halting).
        if debug_exit:
            argv += ["-device", DEBUG_EXIT_DEVICE]
        if firmware == "uefi":
            if ovmf_path() is None:
                raise FileNotFoundError("no OVMF firmware in " + ", ".join(OVMF_PATHS) +
                                        " (Debian's ovmf; scripts/install-deps installs it), "
                                        "nor in TICKGUEST_OVMF")
            argv += ["-bios", ovmf_path()]
        if kernel is not None:
            argv += ["-kernel", str(kernel), "-append", cmdline]
        else:
            argv += ["-cdrom", str(iso), "-boot", "d"]
        # The QMP socket goes in a directory of its own, so no other run can take its name;
        # the directory is removed by kill(), or when the Guest is collected if it never ran.
        self.qmp_path: Optional[str] = None
        self._qmp_dir_cleanup = None
        if qmp:
            qmp_dir = tempfile.mkdtemp(prefix="tickguest-qmp-")
            self._qmp_dir_cleanup = weakref.finalize(self, shutil.rmtree, qmp_dir, True)
            self.qmp_path = os.path.join(qmp_dir, "qmp.sock")
            argv += ["-qmp", f"unix:{self.qmp_path},server=on,wait=off"]
        # QEMUOPTS of `make conformance` reach every boot, after the test's own arguments
        self.argv = argv + [str(a) for a in extra_args] + \
            shlex.split(os.environ.get("TICKGUEST_QEMU_ARGS", ""))
        self.sample_vcpu = sample_vcpu

        self.proc: Optional[subprocess.Popen] = None
        self.started: Optional[float] = None
        self.start_error: Optional[str] = None
        self.callback_error: Optional[BaseException] = None
        self._lines: list = []            # (t, cleaned text)
        self._raw = bytearray()
        self._stderr = bytearray()
        self._cond = threading.Condition()
        self._threads: list = []          # the pipe readers
        self._result: Optional[Result] = None
        # Set once QEMU's output has ended or it was killed: wakes the helper threads below.
        self._ended = threading.Event()
        # Held while QEMU is signalled or reaped, so no signal can go to a reaped pid that
        # another process has been given since: with helper threads signalling, it matters.
        self._reap_lock = threading.RLock()
        self._helpers: list = []          # the sampler and the pause thread
        self._qmp: Optional[QMPClient] = None
        self._qmp_lock = threading.Lock()
        # What run_pauses asked for and what it did.
        self.pause_schedule: Optional[PauseSchedule] = None
        self.pause_plan: Optional[list] = None     # (offset_s, length_s), as the schedule gave
        self.pause_origin: Optional[float] = None  # stamp of the line the schedule started at
        self.pauses: list = []                     # (start, end) of every pause applied
        # (stop sent, stop done, resume sent, resume done) of each: the VM stopped somewhere
        # in the first two and ran again somewhere in the last two, however long QEMU or a
        # busy host took to act on them
        self.pause_brackets: list = []
        self.pause_error: Optional[BaseException] = None
        self._pause_error_reported = False
        # What run_host_steal was given, and its thread's failure if it had one.
        self.host_steal: Optional[HostSteal] = None
        self.host_steal_error: Optional[BaseException] = None
        # With sample_vcpu=True: (host time, on-CPU ns, runqueue-wait ns, timeslices) of the
        # vCPU thread, and (host time, thread_times()) of all of QEMU's threads, from the
        # same reads.
        self.vcpu_samples: list = []
        self.thread_samples: list = []
        # (host time, the host's own steal in USER_HZ ticks over all its CPUs), same cadence
        self.host_steal_samples: list = []
        # (woke, slept, own on-CPU ns, own run-queue ns) of each of the sampler's rounds: when
        # it woke, when it went back to sleep, and its own schedstat as it woke (host_frozen_s)
        self.sampler_samples: list = []

    # -- life cycle

    def start(self) -> "Guest":
        if self.proc is not None or self.start_error is not None:
            raise RuntimeError("a Guest runs once")
        self.started = time.monotonic()
        # Resolved here, not left to setpriv, whose "not found" would exit 127: odd, a "status".
        exe = shutil.which(self.argv[0])
        if exe is None:
            self.start_error = f"cannot run {self.argv[0]}: not found"
            return self
        wrapper = []
        setpriv = shutil.which("setpriv")
        if setpriv:
            wrapper = [setpriv, "--pdeathsig", "KILL", "--"]
        try:
            self.proc = subprocess.Popen(wrapper + [exe] + self.argv[1:],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, start_new_session=True)
        except OSError as e:
            # Not an exception: "QEMU failed to start" is status 125 like any other no-verdict.
            self.start_error = f"cannot run {self.argv[0]}: {e.strerror}"
            return self
        _live.add(self)
        for target, pipe in ((self._read_serial, self.proc.stdout),
                             (self._read_stderr, self.proc.stderr)):
            th = threading.Thread(target=target, args=(pipe,), daemon=True,
                                  name=f"guest-{self.proc.pid}-{target.__name__}")
            th.start()
            self._threads.append(th)
        if self.sample_vcpu:
            self._start_helper(self._sample_vcpu, "vcpu-sampler")
        return self

    def _start_helper(self, target, what: str, args=()) -> threading.Thread:
        th = threading.Thread(target=target, args=args, daemon=True,
                              name=f"guest-{self.proc.pid}-{what}")
        th.start()
        self._helpers.append(th)
        return th

    def __enter__(self) -> "Guest":
        return self.start()

    def __exit__(self, exc_type, exc, tb) -> None:
        self.kill()
        # A failed helper thread must not go unnoticed when nobody called wait() to hear it;
        # an exception already on its way out is the more useful one and goes on.
        if exc_type is None and not self._pause_error_reported:
            self._raise_helper_error()

    def signal(self, sig: int) -> bool:
        """Send sig to QEMU's process group while QEMU is alive (not yet reaped: a reaped pid
        could belong to someone else).  Returns whether it was sent."""
        with self._reap_lock:
            if self.proc is None or self.proc.returncode is not None:
                return False
            try:
                os.killpg(self.proc.pid, sig)
                return True
            except ProcessLookupError:
                return False

    def thread_times(self) -> dict:
        """How QEMU's threads have used the host CPU so far, the hypervisor's view of the run:
        {thread name: (on-CPU ns, ns runnable but waiting for a CPU, timeslices, ns of the
        on-CPU time in the host kernel)}, summed over threads of one name ("CPU 0/TCG" is the
        vCPU).  The first three are /proc/PID/task/*/schedstat's fields; a timeslice is one time
        the thread was given the CPU.  The fourth is the stat file's stime (_kernel_ns).  Empty
        when QEMU is not running or the kernel keeps no scheduler statistics."""
        with self._reap_lock:           # a reaped pid's /proc may be someone else's
            return self._thread_times()

    def _thread_times(self) -> dict:
        out: dict = {}
        if self.proc is None or self.proc.returncode is not None:
            return out
        base = f"/proc/{self.proc.pid}/task"
        try:
            tids = os.listdir(base)
        except OSError:
            return out
        for tid in tids:
            try:
                with open(f"{base}/{tid}/comm") as f:
                    name = f.read().strip()
                with open(f"{base}/{tid}/schedstat") as f:
                    figures = tuple(int(x) for x in f.read().split()[:3])
                with open(f"{base}/{tid}/stat") as f:
                    figures += (_kernel_ns(f.read()),)
            except (OSError, ValueError):
                continue        # the thread ended between listdir and open
            prev = out.get(name, (0,) * len(figures))
            out[name] = tuple(a + b for a, b in zip(prev, figures))
        return out

    def vcpu_thread_id(self) -> Optional[int]:
        """The TID of QEMU's first vCPU thread (named as vcpu_thread_name() picks), or None if
        it has none (yet) or QEMU is not running."""
        with self._reap_lock:
            if self.proc is None or self.proc.returncode is not None:
                return None
            base = f"/proc/{self.proc.pid}/task"
            names = {}
            try:
                for tid in os.listdir(base):
                    with open(f"{base}/{tid}/comm") as f:
                        names.setdefault(f.read().strip(), int(tid))
            except OSError:
                pass            # a thread ended mid-listing, or QEMU did: take what was read
            name = vcpu_thread_name(names)
            return None if name is None else names[name]

    @contextlib.contextmanager
    def unreaped(self):
        """A block in which QEMU cannot be reaped, so its pid and its threads' ids cannot pass
        to another process: yields QEMU's pid if it is running, None if it never ran or has
        exited.  QEMU may still exit inside the block (acting on it then fails with ESRCH);
        keep the block short, as kill() and the sampler wait for it."""
        with self._reap_lock:
            running = self.proc is not None and self.proc.returncode is None \
                and not self._exited()
            yield self.proc.pid if running else None

    # -- QMP

    def qmp(self, cmd: str, **args):
        """Run a QMP command (Guest(qmp=True) only) and return its "return" value; QMPError
        if QEMU refuses it or has gone.  Connects on first use: QEMU makes the socket while it
        starts, so the first call waits for it, at most QMP_CONNECT_S."""
        if self.qmp_path is None:
            raise RuntimeError("this Guest was made without qmp=True")
        if self.proc is None:
            raise RuntimeError("QMP needs a running guest: start() it first")
        with self._qmp_lock:
            if self._qmp is None:
                self._qmp = self._connect_qmp()
        return self._qmp.execute(cmd, **args)

    def _connect_qmp(self) -> QMPClient:
        deadline = time.monotonic() + QMP_CONNECT_S
        while True:
            if self._gone():
                raise QMPError("QEMU is not running")
            try:
                return QMPClient(self.qmp_path)
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() >= deadline:
                    raise QMPError(f"no QMP socket at {self.qmp_path} after "
                                   f"{QMP_CONNECT_S:g} s") from None
                self._ended.wait(0.02)

    def _gone(self) -> bool:
        """Whether QEMU has ended (or never ran): nothing left to pause or resume."""
        return self.proc is None or self._ended.is_set() or self._exited()

    # -- pausing the run

    def run_pauses(self, schedule: PauseSchedule, start_after_line=RUNNING_LINE,
                   horizon_s: float = None, method: str = "signal") -> Optional[threading.Thread]:
        """Apply schedule from a background thread, starting when a serial line matches
        start_after_line: each pause at the line's arrival time plus its offset, for its
        length, in host seconds.  Returns the thread (kill() and wait() join it), or None if
        QEMU could not be started.

        horizon_s bounds the schedule (every pause ends by then, counted from the line); by
        default it is the command line's duration= less UNPAUSED_TAIL_S, so the end of the run
        is never paused.  The guest's duration is counted by its reference clock, which goes
        on through a SIGSTOP (TSC) but not through a QMP stop, so in wall time a QMP-paused
        run is longer by its pauses; the Guest's timeout is extended by the planned pauses.

        method="signal" stops QEMU's whole process group with SIGSTOP and resumes it with
        SIGCONT: the host deschedules the VM and its virtual clocks run on, as under a loaded
        host.  method="qmp" (needs qmp=True) uses QMP "stop" and "cont": QEMU stops its vCPUs,
        its virtual clock and, under TCG, the TSC, so the guest's busy loops see no gap; but a
        device timed by the host's clock goes on, and QEMU's RTC is, by default (-rtc
        clock=host): with driftfix=slew it delivers the ticks of the stop afterwards, and tick
        time runs ahead of the TSC (tests/conformance/test_pauses.py has the figures).

        Each pause applied is appended to Guest.pauses as (start, end) in time.monotonic()
        seconds: from when the stop had taken effect (the signal sent, or QMP's reply to
        "stop") to just before the resume was sent.  The thread stops when QEMU exits or is
        killed, cutting a pause short (its end is then when the thread noticed); it always
        sends the resume after a stop it attempted, whatever happened.  Its exception, if it
        has one, is kept in Guest.pause_error and raised by wait() (PauseThreadError).  If the
        line never comes, no pause is applied: Guest.pause_origin stays None."""
        if method not in ("signal", "qmp"):
            raise ValueError(f"method must be 'signal' or 'qmp', got {method!r}")
        if method == "qmp" and self.qmp_path is None:
            raise ValueError("method='qmp' needs a Guest made with qmp=True")
        if not isinstance(schedule, PauseSchedule):
            raise TypeError(f"schedule must be a PauseSchedule, got {type(schedule).__name__}")
        self._refuse_before_start("run_pauses")
        if self.pause_schedule is not None:
            raise RuntimeError("a Guest runs one pause schedule")
        horizon_s = self._horizon(horizon_s, "run_pauses")
        rx = re.compile(start_after_line)
        plan = list(schedule.pauses(horizon_s))
        self.pause_schedule, self.pause_plan = schedule, plan
        self.timeout += sum(length for _, length in plan)
        return self._start_at_line("pauses", rx, "pause_error", self._apply_pauses, plan, method)

    def _apply_pauses(self, origin: float, plan, method) -> None:
        self.pause_origin = origin
        for offset, length in plan:
            if not self._sleep_until(origin + offset):
                return
            if not self._pause_once(origin + offset + length, method):
                return

    # What run_pauses and run_host_steal have in common: refused before start(), a horizon
    # counted from a serial line, and a helper thread that waits for the line and keeps its
    # failure for wait() to raise.

    def _refuse_before_start(self, what: str) -> None:
        if self.proc is None and self.start_error is None:
            raise RuntimeError(f"start the guest (or enter its with block) before {what}()")

    def _horizon(self, horizon_s: Optional[float], what: str) -> float:
        """horizon_s, checked here so a bad one fails in the caller, or by default the command
        line's duration= less UNPAUSED_TAIL_S."""
        if horizon_s is None:
            return max(0.0, cmdline_duration_s(self.cmdline) - UNPAUSED_TAIL_S)
        _require(_finite(horizon_s) and horizon_s >= 0, what,
                 f"the horizon horizon_s must be a finite number of seconds >= 0, got "
                 f"{horizon_s!r}")
        return float(horizon_s)

    def _start_at_line(self, what: str, rx, error_attr: str, act, *args) \
            -> Optional[threading.Thread]:
        """Start a helper thread that waits for a serial line matching rx, then calls
        act(the line's stamp, *args); nothing happens if the line never comes.  Its exception
        goes to self.<error_attr>.  None, and no thread, if QEMU could not be started (wait()
        reports that)."""
        if self.proc is None:
            return None

        def helper():
            try:
                line = self.wait_for_line(rx, timeout=self.timeout)
                if line is not None:
                    act(line[0], *args)
            except BaseException as e:   # kept for wait() to raise: a thread's own is lost
                setattr(self, error_attr, e)

        return self._start_helper(helper, what)

    def _sleep_until(self, t: float) -> bool:
        """Sleep until monotonic time t, never less; False, at once, if QEMU ends first."""
        while True:
            left = t - time.monotonic()
            if left <= 0:
                return True
            if self._ended.wait(left):
                return False

    def _pause_once(self, end: float, method: str) -> bool:
        """One pause until monotonic time end; returns whether QEMU is still there."""
        held = None
        sent = time.monotonic()
        try:
            if not self._stop_vm(method):
                return False
            held = time.monotonic()
            self._sleep_until(end)
        finally:
            released = time.monotonic()
            # Sent even when the stop failed half-way (a QMP reply that never came): a resume
            # of a running VM does nothing, a VM left stopped would hang the run.
            self._resume_vm(method)
            if held is not None:
                self.pauses.append((held, released))
                self.pause_brackets.append((sent, held, released, time.monotonic()))
        return not self._ended.is_set()

    def _stop_vm(self, method: str) -> bool:
        if method == "signal":
            return self.signal(signal.SIGSTOP)
        if self._gone():
            return False
        try:
            self.qmp("stop")
            return True
        except QMPError:
            if self._gone():
                return False
            raise

    def _resume_vm(self, method: str) -> None:
        if method == "signal":
            self.signal(signal.SIGCONT)
            return
        if self._gone():
            return
        try:
            self.qmp("cont")
        except QMPError:
            if not self._gone():
                raise

    # -- host load: the VM runnable but without the CPU

    def run_host_steal(self, steal: HostSteal, start_after_line=RUNNING_LINE,
                       horizon_s: float = None) -> Optional[threading.Thread]:
        """Apply host load (a host_steal.CpuCap or Contention) from a background thread: from
        when a serial line matches start_after_line until horizon_s seconds after that line,
        or until QEMU exits or is killed if that comes first.  Returns the thread (kill() and
        wait() join it), or None if QEMU could not be started.

        horizon_s defaults, as for run_pauses, to the command line's duration= less
        UNPAUSED_TAIL_S.  Unlike a pause, the load stops neither the guest's clocks nor QEMU's,
        so the run takes no longer in wall time and the timeout stays as it was.

        Guest.host_steal is the load; Guest.host_steal_window is when it was in place, in
        time.monotonic() seconds.  The load is lifted whatever happens: at the horizon, when
        QEMU exits, by kill() (before QEMU is killed), on leaving the with block, at exit.  A
        failure of the thread, or of lifting the load, is kept in Guest.host_steal_error and
        raised by wait() or on leaving the block as HostStealError.  A host that cannot apply
        the load (steal.unavailable()) is refused here, in the caller: RuntimeError."""
        if not isinstance(steal, HostSteal):
            raise TypeError(f"steal must be a host_steal.HostSteal (CpuCap, Contention), got "
                            f"{type(steal).__name__}")
        self._refuse_before_start("run_host_steal")
        if self.host_steal is not None:
            raise RuntimeError("a Guest runs one host steal")
        horizon_s = self._horizon(horizon_s, "run_host_steal")
        rx = re.compile(start_after_line)
        why = steal.unavailable()
        if why:
            raise RuntimeError(f"{steal.describe()}: {why}")
        self.host_steal = steal
        return self._start_at_line("host-steal", rx, "host_steal_error", self._apply_host_steal,
                                   steal, horizon_s)

    def _apply_host_steal(self, origin: float, steal: HostSteal, horizon_s: float) -> None:
        try:
            steal.begin(self)
            self._sleep_until(origin + horizon_s)
        finally:
            steal.end()

    @property
    def host_steal_window(self) -> Optional[tuple]:
        """(t_applied, t_released) of run_host_steal's load in time.monotonic() seconds, a
        window inside the time it was in force: None if it has not been (or never was)
        applied, t_released None while it still is."""
        s = self.host_steal
        if s is None or s.applied is None:
            return None
        return (s.applied, s.released)

    def _end_host_steal(self) -> None:
        if self.host_steal is None:
            return
        try:
            self.host_steal.end()
        except Exception as e:
            if self.host_steal_error is None:
                self.host_steal_error = e

    # -- the hypervisor's view: the vCPU thread's CPU time

    def _sample_vcpu(self) -> None:
        while not self._ended.is_set():
            woke = time.monotonic()
            own = _own_schedstat()
            times = self.thread_times()
            t = time.monotonic()
            name = vcpu_thread_name(times)
            if name is not None:
                self.vcpu_samples.append((t, *times[name]))
                self.thread_samples.append((t, times))
                self.host_steal_samples.append((t, host_steal_ticks()[0]))
            self.sampler_samples.append((woke, t, *own))
            self._ended.wait(VCPU_SAMPLE_PERIOD_S)

    @staticmethod
    def _bracket(samples: list, t0: float, t1: float):
        """The latest sample at or before t0 and the earliest at or after t1, or the nearest
        ones where none brackets an end."""
        before = [s for s in samples if s[0] <= t0]
        after = [s for s in samples if s[0] >= t1]
        return (before[-1] if before else samples[0]), (after[0] if after else samples[-1])

    @classmethod
    def _bracketing(cls, samples: list, of: str, t0: Optional[float], t1: Optional[float]):
        """_bracket() for a window given as the figures' methods take it: by default from the
        first sample to the last; LookupError without samples, ValueError if it ends first."""
        if not samples:
            raise LookupError(f"no samples of {of} (make the Guest with sample_vcpu=True, and "
                              f"let QEMU start its vCPU)")
        t0 = samples[0][0] if t0 is None else t0
        t1 = samples[-1][0] if t1 is None else t1
        if t1 < t0:
            raise ValueError(f"the window ends ({t1}) before it starts ({t0})")
        return cls._bracket(samples, t0, t1)

    def vcpu_off_cpu_s(self, t0: float, t1: float) -> float:
        """An upper bound on how long the vCPU thread was off the CPU between monotonic times
        t0 and t1 (stopped, or runnable and waiting): no stolen time the guest reports for
        that window can be more.  Needs sample_vcpu=True.

        It is wall time less on-CPU time over the samples that bracket the window: the latest
        at or before t0 and the earliest at or after t1.  That window holds [t0, t1], so its
        off-CPU time can only be more, by the off-CPU time in the two margins (at most a
        sample period each).  Where no sample brackets an end, the end itself is taken with
        the nearest sample's CPU time, which is the most the thread can have had at t0 and
        the least it can have had at t1: still an upper bound.  Each sample is stamped when
        its read of /proc ends, about 0.1 ms after it starts (measured here: 78 us median),
        a blur far below anything the bound is used for."""
        a, b = self._bracketing(list(self.vcpu_samples), "the vCPU thread", t0, t1)
        wall = max(b[0], t1) - min(a[0], t0)
        on_cpu = max(0, b[1] - a[1]) / 1e9
        return wall - on_cpu

    def vcpu_kernel_s(self, t0: float, t1: float) -> float:
        """How much of the vCPU thread's on-CPU time between t0 and t1 the host kernel's ticks
        found in the kernel (stime), from the samples that bracket the window: faults on QEMU's
        memory, system calls, interrupts on its CPU.  No guest instruction runs then, so to the
        guest it is time taken like time off the CPU.  It is a count of scheduler ticks in
        USER_HZ units (_kernel_ns), so a sample of the truth: ground_truth.kernel_ms_bound says
        how much more it can have been.  Needs sample_vcpu=True."""
        a, b = self._bracketing(list(self.vcpu_samples), "the vCPU thread", t0, t1)
        return max(0, b[4] - a[4]) / 1e9

    def host_frozen_s(self, t0: float, t1: float) -> float:
        """An estimate, from above, of how long the host machine itself stood still between t0
        and t1 while its kernel thought it ran: the sampler's oversleeps that its own wait for
        a CPU does not explain.  These hosts are virtual machines, and their hypervisor can stop
        one whole (for a snapshot, a migration, its own memory work) without reporting it as
        steal; a thread that was on a CPU then still counts the time
        as run, so vcpu_off_cpu_s cannot see it, but a sleeper wakes that much late.  Each
        round of the sampler should sleep VCPU_SAMPLE_PERIOD_S: the rest of the gap between
        going to sleep and waking, less the run-queue wait its schedstat shows, is counted
        where it is over SAMPLER_LATE_S, for every round whose sleep overlaps [t0, t1].  A
        sound host wakes it later than asked by a tenth of a millisecond or so (timer slack,
        the GIL: measured here under three busy loops, median 0.1 ms, one round in a few
        hundred over 1 ms), which summed over hundreds of rounds would stand for a stop that
        never was.  A stop while the sampler was itself on the CPU, reading /proc (a tenth of
        each round or less), is missed.  0 without samples."""
        rounds = list(self.sampler_samples)
        frozen = 0.0
        for (_, slept, _, wait0), (woke, _, _, wait1) in zip(rounds, rounds[1:]):
            if woke < t0 or slept > t1:
                continue
            late = woke - slept - VCPU_SAMPLE_PERIOD_S - (wait1 - wait0) / 1e9
            if late > SAMPLER_LATE_S:
                frozen += late
        return frozen

    def runqueue_wait_s(self, t0: float = None, t1: float = None) -> float:
        """How long QEMU's threads were runnable but had no CPU, summed over all of them, from
        the samples that bracket [t0, t1] (by default the first and the last).  Needs
        sample_vcpu=True.

        A tick is delivered late only if a thread that makes it waited for the CPU: the vCPU,
        or the main loop thread that runs QEMU's device timers (the PIT's, the RTC's, the
        HPET's).  Summed over the threads, overlapping waits count twice, so the sum is an
        upper bound on how long the host's load can have held ticks back: the allowance for
        ticks a loaded host bunched up.  A thread missing from the first sample (not started
        yet) counts from zero."""
        (_, first), (_, last) = self._bracketing(list(self.thread_samples), "QEMU's threads",
                                                 t0, t1)
        return sum(max(0, figures[1] - first.get(name, (0, 0))[1])
                   for name, figures in last.items()) / 1e9

    def vcpu_runqueue_wait_s(self, t0: float = None, t1: float = None) -> float:
        """How long the vCPU thread was runnable but had no CPU, from the samples that bracket
        [t0, t1] (by default the first and the last), as runqueue_wait_s brackets: the host's
        ground truth for a CPU cap or contention, where the vCPU is kept waiting rather than
        stopped.  Widened to the samples, it can only be more than the wait inside [t0, t1],
        by at most a sample period at each end.  Needs sample_vcpu=True.

        The kernel counts as waiting a thread throttled by a cgroup's quota as well as one
        behind another on its CPU; a stopped thread (SIGSTOP, QMP stop) is not runnable and
        does not wait."""
        a, b = self._bracketing(list(self.vcpu_samples), "the vCPU thread", t0, t1)
        return max(0, b[2] - a[2]) / 1e9

    def host_steal_s(self, t0: float, t1: float) -> float:
        """An upper bound on the time the host's own hypervisor took from the host's CPUs
        between t0 and t1 (host_steal_ticks), from the samples that bracket the window: the
        growth of the sum, plus a tick per CPU, since each counter is its CPU's stolen time
        rounded down to whole ticks (so a window that moved it by d held less than d + 1).
        0 where the host reports no steal at all.  Needs sample_vcpu=True."""
        if not self.host_steal_samples:
            return 0.0
        a, b = self._bracket(list(self.host_steal_samples), t0, t1)
        _, cpus = host_steal_ticks()
        hz = os.sysconf("SC_CLK_TCK")
        return (max(0, b[1] - a[1]) + cpus) / hz if b[1] or a[1] else 0.0

    def vcpu_bracket_margin_s(self, t0: float, t1: float) -> float:
        """How far the vCPU samples that bracket [t0, t1] reach outside it, both ends together:
        what the figures above may have counted beyond the window (a sample period or so at
        each end, more when a busy host held the sampler up).  Needs sample_vcpu=True."""
        a, b = self._bracketing(list(self.vcpu_samples), "the vCPU thread", t0, t1)
        return max(0.0, t0 - a[0]) + max(0.0, b[0] - t1)

    def vcpu_timeslices(self, t0: float = None, t1: float = None) -> int:
        """How many times the vCPU thread was given the CPU over the samples that bracket
        [t0, t1], bracketed as vcpu_runqueue_wait_s.  Every separate wait ends in one, so the
        window held at most one wait more than this (one still going on at its end).  Needs
        sample_vcpu=True."""
        a, b = self._bracketing(list(self.vcpu_samples), "the vCPU thread", t0, t1)
        return max(0, b[3] - a[3])

    def kill(self) -> None:
        """Kill the group and reap QEMU; safe to call any number of times, from anywhere.
        SIGKILL ends a stopped process as well, so a pause in progress cannot keep QEMU.  Host
        load is lifted first, while QEMU still runs, so its threads go back where they were
        and the cgroup or the busy processes go with it."""
        self._end_host_steal()
        if self.proc is not None:
            with self._reap_lock:
                self.signal(signal.SIGKILL)
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
        self._ended.set()
        if self._qmp is not None:
            self._qmp.shutdown()        # wakes a helper waiting for a reply
        self._join()
        if self._qmp is not None:
            self._qmp.close()
        if self._qmp_dir_cleanup is not None:
            self._qmp_dir_cleanup()
        _live.discard(self)

    def _join(self) -> None:
        for th in self._threads + self._helpers:
            if th is not threading.current_thread():
                th.join(timeout=5)

    def _exited(self) -> bool:
        """Whether QEMU has exited, without reaping it: its zombie keeps the process group's id
        reserved, so the group can still be killed safely afterwards."""
        try:
            info = os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        return info is not None

    def wait(self, timeout: float = None) -> Result:
        """Wait for QEMU to exit, at most timeout (default: the Guest's) seconds from its start;
        past that kill it and report status 124.  If the pause thread failed, raises
        PauseThreadError (the Result is its .result) instead of returning; if the host-steal
        thread did, HostStealError."""
        if self._result is not None:
            self._raise_helper_error()
            return self._result
        if self.proc is None and self.start_error is None:
            self.start()
        timed_out = False
        if self.proc is not None:
            deadline = self.started + (self.timeout if timeout is None else timeout)
            while not self._exited():
                if time.monotonic() >= deadline:
                    timed_out = True
                    break
                time.sleep(0.02)
            ended = time.monotonic()
            self.kill()          # stragglers in the group, the reap, the reader threads
        else:
            ended = self.started
        self._result = self._make_result(timed_out, ended)
        self._raise_helper_error()
        return self._result

    def _raise_helper_error(self) -> None:
        for error, kind, what in ((self.pause_error, PauseThreadError, "the pause thread"),
                                  (self.host_steal_error, HostStealError,
                                   "the host-steal thread")):
            if error is not None:
                self._pause_error_reported = True
                err = kind(f"{what} failed: {error!r}")
                err.result = self._result
                raise err from error

    # -- reading

    def _read_serial(self, pipe) -> None:
        fd, pending = pipe.fileno(), b""
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            now = time.monotonic()
            if chunk:
                self._raw += chunk
                pending += chunk
                *done, pending = pending.split(b"\n")
            else:
                done, pending = ([pending] if pending else []), b""
            for b in done:
                self._add_line(now, clean_line(b))
            if not chunk:
                break
        # QEMU closes its output only by exiting: the helpers can stop.
        self._ended.set()
        with self._cond:
            self._cond.notify_all()

    def _add_line(self, t: float, text: str) -> None:
        with self._cond:
            self._lines.append((t, text))
            self._cond.notify_all()
        if self.on_line is not None and self.callback_error is None:
            try:
                self.on_line(t, text)
            except BaseException as e:  # the pipe must go on being drained
                self.callback_error = e

    def _read_stderr(self, pipe) -> None:
        fd = pipe.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            self._stderr += chunk

    @property
    def lines(self) -> list:
        """The serial lines so far, (monotonic time, text), noise included."""
        with self._cond:
            return list(self._lines)

    def wait_for_line(self, pattern, timeout: float) -> Optional[tuple]:
        """Block until a serial line matches the regex pattern (searched); returns the
        (time, text) or None on timeout or when the output ended.  For acting on the guest at a
        given point of its run, e.g. pausing it."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = 0
        with self._cond:
            while True:
                for item in self._lines[seen:]:
                    if rx.search(item[1]):
                        return item
                seen = len(self._lines)
                left = deadline - time.monotonic()
                reader_done = self._threads and not self._threads[0].is_alive()
                if left <= 0 or reader_done or self.proc is None:
                    return None
                self._cond.wait(min(left, 0.5))

    def lines_matching(self, pattern) -> list:
        """[(time, match)] for every serial line so far that the regex pattern matches
        (searched), in order: the host's arrival time of each line beside what it says."""
        rx = re.compile(pattern)
        return [(t, m) for t, text in self.lines if (m := rx.search(text)) is not None]

    def _make_result(self, timed_out: bool, ended: float) -> Result:
        all_lines = self.lines
        tap = parse_tap([t for _, t in all_lines])
        rc = None if self.proc is None else self.proc.returncode
        stderr = self._stderr.decode("utf-8", errors="replace")
        if self.start_error:
            stderr = self.start_error + "\n" + stderr
        result = Result(
            argv=list(self.argv),
            lines=all_lines[tap.offset:] if tap.offset is not None else [],
            all_lines=all_lines,
            raw=bytes(self._raw).decode("utf-8", errors="replace"),
            qemu_rc=rc,
            status=decode_status(rc, timed_out, verdict_seen=tap.exit_line is not None),
            timed_out=timed_out,
            stderr=stderr,
            tap=tap,
            started=self.started,
            duration=ended - self.started,
        )
        keep_log(result)
        return result


_kept = itertools.count(1)


def keep_log(result: Result) -> None:
    """With TICKGUEST_LOG_DIR set, every run's command, status and whole serial output go to a
    file there, numbered in order: a failure in a long series can then be read in full, not
    only the tail its summary shows (scripts/loaded-make-test sets it)."""
    where = os.environ.get("TICKGUEST_LOG_DIR")
    if not where:
        return
    os.makedirs(where, exist_ok=True)
    name = f"{next(_kept):04d}-{os.getpid()}-status{result.status}.log"
    with open(os.path.join(where, name), "w") as f:
        f.write(" ".join(result.argv) + "\n\n" + result.raw)


def run(**kw) -> Result:
    """Boot, wait for the verdict (or the timeout), and make sure QEMU is gone."""
    with Guest(**kw) as g:
        return g.wait()


# --------------------------------------------------------------------------------------------
# Checking a report against the contract


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
