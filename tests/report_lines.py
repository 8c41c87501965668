"""The guest's timekeeping and accounting lines, read in one place.

The formats are documented in docs/timekeeping.md and docs/report.md; the kernel prints them
from kernel/tick.c and acct/acct_report.c.  The conformance tests, scripts/bench-timekeeping
and the HTML report all read a run through these, so a change of format is one change here.

Each function takes a harness.Result (the *_line ones, one line of text).  A figure the report
lacks raises: LookupError with the run's summary for a line, KeyError naming the checks there
are for a check (harness.Tap.test).
"""

import re
from dataclasses import dataclass

# One TimeTrackerStats pair: the tick clock against the reference, then the tick source's counts.
STATS_RE = re.compile(r"^# TimeTrackerStats at ([\d.]+) s: behind by (-?\d+) us, "
                      r"at most (-?\d+) us; running at ([\d.]+)%; stolen (\d+) us")
DEVICE_RE = re.compile(r"^# TimeTrackerStats (\w+): .*; (\d+) catchup, (\d+) lost, "
                       r"(\d+) late, (\d+) ahead\s*$")
# A backlog that has closed: when it opened (guest seconds), its peak, how it was paid.
BACKLOG_RE = re.compile(r"^# TimeTrackerBacklog at ([\d.]+) s: (-?\d+) ticks behind at most; "
                        r"(\d+) catchup, (\d+) lost; closed after ([\d.]+) ms")
# The accounting summary above the table.
ACCOUNTING_RE = re.compile(r"^# accounting: .* (\d+) ms in interrupts, (\d+) ms stolen seen")


@dataclass(frozen=True)
class StatsLine:
    guest_s: float       # reference time since the tick source was programmed
    behind_us: int       # tick time behind the reference at the line (negative: ahead)
    at_most_us: int      # the most it was behind since the previous line
    running_pct: float   # tick time's rate against the reference over the interval
    stolen_us: int       # stolen time the probes had seen by then


@dataclass(frozen=True)
class BacklogLine:
    guest_s: float       # when the backlog opened, reference time
    peak_ticks: int
    catchup: int
    lost: int
    closed_ms: float     # from opening to closing


def stats_line(text: str):
    m = STATS_RE.match(text)
    return m and StatsLine(float(m.group(1)), int(m.group(2)), int(m.group(3)),
                           float(m.group(4)), int(m.group(5)))


def backlog_line(text: str):
    m = BACKLOG_RE.match(text)
    return m and BacklogLine(float(m.group(1)), int(m.group(2)), int(m.group(3)),
                             int(m.group(4)), float(m.group(5)))


def stats(r) -> list:
    """Every TimeTrackerStats first line of the run, in order."""
    return [s for _, text in r.lines if (s := stats_line(text))]


def backlogs(r) -> list:
    """Every TimeTrackerBacklog line of the run, in order."""
    return [b for _, text in r.lines if (b := backlog_line(text))]


def _accounting(r):
    for _, text in r.lines:
        m = ACCOUNTING_RE.match(text)
        if m:
            return int(m.group(1)), int(m.group(2))
    raise LookupError("no '# accounting:' line in the report\n" + r.summary())


def irq_ms(r) -> int:
    """Exact time spent in interrupt handlers, whole ms."""
    return _accounting(r)[0]


def stolen_ms(r) -> int:
    """All the stolen time the guest's probes saw, the sponge's and idle's included, whole ms."""
    return _accounting(r)[1]


def _check_yaml(r, prefix: str) -> dict:
    t = r.tap.test(prefix)          # KeyError, naming the checks there are, if it is missing
    if t.yaml is None:
        raise LookupError(f"check '{t.description}' has no figures\n" + r.summary())
    return t.yaml


TICK_CLOCK_CHECK_RE = re.compile(r"^(\w+) tick time never ran ahead")


def tick_source(r) -> str:
    """The tick source's name as the checks use it (pit, rtc, lapic, hpet), from the one tick
    clock check of an accounting run (the banner describes the source in words)."""
    for t in r.tap.tests:
        m = TICK_CLOCK_CHECK_RE.match(t.description)
        if m:
            return m.group(1)
    raise KeyError("no tick clock check in the report\n" + r.summary())


def tick_clock(r) -> dict:
    """The tick clock's figures: catch-up, lost, late, ahead ticks, backlogs, behind at end."""
    return _check_yaml(r, f"{tick_source(r)} tick time never ran ahead")


def tick_rate(r) -> dict:
    """The tick rate check's figures: programmed_hz, measured_hz, error_ppm, bound_ppm."""
    return _check_yaml(r, f"{tick_source(r)} ticks at the programmed rate")


def tick_period_ms(r) -> float:
    return 1000.0 / float(tick_rate(r)["programmed_hz"])


def sponge(r) -> dict:
    """The sponge check's figures: catch-up ticks, absorbed, escaped, wakeups, its time."""
    return _check_yaml(r, "sponge absorbed")


def tasks(r) -> dict:
    """{task name: its check} for every task row of the accounting report."""
    return {t.yaml["task"]: t for t in r.tap.tests
            if t.description.startswith("task ") and t.yaml}
