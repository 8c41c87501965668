"""The guest's timekeeping and accounting lines, read in one place.

The formats are documented in docs/timekeeping.md and docs/report.md; the kernel prints them
from kernel/tick.c, acct/acct_table.c and acct/acct_report.c.  The conformance tests,
scripts/bench-timekeeping and the HTML report all read a run through these, so a change of
format is one change here.

Each function takes a Result (the *_line ones, one line of text).  A figure the report
lacks raises: LookupError with the run's summary for a line, KeyError naming the checks there
are for a check (Tap.test).
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
# Lines the console task could not write in time: the queue the tick formats them into was full.
DROPPED_RE = re.compile(r"^# console: (\d+) lines dropped here: the queue of (\d+) entries was full")
# The accounting summary above the table.
ACCOUNTING_RE = re.compile(r"^# accounting: .* (\d+) ms in interrupts, (\d+) ms stolen seen")
# Its count of the gaps the probes took for stolen time, and their threshold.
GAPS_RE = re.compile(r"^# accounting: .* stolen seen in (\d+) gaps \(probe threshold (\d+) us\)")
# Each method's share of the stolen time charged to the workload, in one line.
SHARES_RE = re.compile(r"^# stolen time charged to the workload: plain sampling (-?[\d.]+)%, "
                       r"steal-aware sampling (-?[\d.]+)%, exact (-?[\d.]+)% of ([\d.]+) ms")

# The accounting methods as the checks name them.
PLAIN, STEAL_AWARE = "plain sampling", "steal-aware sampling"


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


def dropped_lines(r) -> int:
    """How many TimeTrackerStats and TimeTrackerBacklog lines the guest dropped (0 when none)."""
    return sum(int(m.group(1)) for _, text in r.lines if (m := DROPPED_RE.match(text)))


def _two_ints(r, regex, missing: str) -> tuple:
    """The two numbers of the first line regex matches; LookupError(missing) if none does."""
    for _, text in r.lines:
        m = regex.match(text)
        if m:
            return int(m.group(1)), int(m.group(2))
    raise LookupError(missing + "\n" + r.summary())


def _accounting(r):
    return _two_ints(r, ACCOUNTING_RE, "no '# accounting:' line in the report")


def irq_ms(r) -> int:
    """Exact time spent in interrupt handlers, whole ms."""
    return _accounting(r)[0]


def stolen_ms(r) -> int:
    """All the stolen time the guest's probes saw, the sponge's and idle's included, whole ms."""
    return _accounting(r)[1]


def steal_gaps(r) -> tuple:
    """(how many gaps the probes counted as stolen time, the threshold in us)."""
    return _two_ints(r, GAPS_RE, "no gap count on the '# accounting:' line")


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


def tasks(r, method: str = PLAIN) -> dict:
    """{task name: its check by method} for every task of the accounting report.  The plain
    sampling check's YAML has the task's whole row (every method's figures, the probe's); the
    steal-aware one has that method's."""
    return {t.yaml["task"]: t for t in r.tap.tests
            if t.description.startswith("task ") and f": {method} " in t.description
            and t.yaml}


def share_check(r, method: str = STEAL_AWARE):
    """The check of the share of all stolen time the method charged to the workload; its YAML
    has stolen_ms, excess_ms, share_of_stolen_pct, bound_ms and what the bound is made of.
    Plain sampling's name carries the sponge mode when there is a sponge."""
    for t in r.tap.tests:
        if t.description.startswith(method) and "of the stolen time to the workload" in \
                t.description:
            return t
    have = "; ".join(t.description for t in r.tap.tests) or "no tests"
    raise KeyError(f"no share check for {method!r} (have: {have})\n" + r.summary())


def shares(r) -> dict:
    """{method: % of the stolen time charged to the workload} for plain sampling, steal-aware
    sampling and exact time, and "stolen_ms", from the one line that gives them all."""
    for _, text in r.lines:
        m = SHARES_RE.match(text)
        if m:
            return {PLAIN: float(m.group(1)), STEAL_AWARE: float(m.group(2)),
                    "exact": float(m.group(3)), "stolen_ms": float(m.group(4))}
    raise LookupError("no '# stolen time charged to the workload:' line\n" + r.summary())
