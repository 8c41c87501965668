"""A timer profile of one platform: what each PC timer does there, on one Markdown page.

scripts/timer-profile is the command; this module holds what it measures and how it reads the
guest's reports.  Two kinds of run:

  * one `suite=devices` run: which devices are there (the banner, and the reasons of skipped
    checks), each counter's resolution, and every rate check's programmed and measured rate
    against each reference clock (TSC, PM timer), with its bound and verdict;
  * per tick source, `suite=accounting` runs with the VM descheduled once, for PAUSE_S, by
    SIGSTOP (the host takes the CPU; its clocks run on) and, under QEMU, by QMP stop (the VMM
    stops the VM and its virtual clock).  From the guest's own report: whether the TSC ran
    through the stop (the probes saw one gap as long as the stop), what the tick source did
    with the ticks it owed (caught up, and how fast; lost them; ran ahead; nothing owed because
    everything stopped together), and whether the CMOS time of day followed the host's clock
    or the TSC across it (the two `time of day` notes of the run).

The classification below is pure and tested on the host (tests/unit_py/test_timer_profile.py).
"""

import re
from dataclasses import dataclass
from typing import Optional

from . import report_lines as lines

PAUSE_S = 3.0           # long enough that the 1 s steps of the time of day tell it apart
PAUSE_AT_S = 1.5        # after the run starts: the tick clock has an origin by then
RUN_S = 7               # the run's duration=: the pause and the backlog it leaves both fit
# The time of day counts whole seconds and each reading may be up to one second old, so two
# readings' difference is within one second of the truth; the serial lines that carry them are
# stamped by the host within a few ms.  1.5 s separates "followed" from a 3 s stop.
TOD_SLACK_S = 1.5

TOD_RE = re.compile(r"^# time of day at the run's (start|end): "
                    r"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d) at tsc ([\d.]+) s$")
MEASURED_BY_RE = re.compile(r", measured by the (\w+)$")

# Which banner key says a device is there, and the counter resolution it gives.
DEVICES = ["tsc", "pit", "rtc", "pmtimer", "hpet", "lapic", "ioapic"]
PIT_INPUT_HZ = 1193182          # the 8254's input clock on every PC (8254 datasheet; IBM PC)
RTC_FINEST_PERIODIC_HZ = 8192   # rate select 3 (MC146818 table 5, 32.768 kHz time base)


@dataclass(frozen=True)
class TimeOfDay:
    seconds: int        # seconds since 1970 of the clock's own zone (differences only)
    tsc_s: float        # the TSC's reading beside it, in seconds
    host_s: float       # the host's stamp of the serial line that carried it


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def time_of_day(r, when: str) -> Optional[TimeOfDay]:
    """The run's `time of day at the run's start|end` note, or None if it has none."""
    for t, text in r.lines:
        m = TOD_RE.match(text)
        if m and m.group(1) == when:
            y, mo, d, h, mi, s = (int(g) for g in m.groups()[1:7])
            secs = _days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s
            return TimeOfDay(secs, float(m.group(8)), t)
    return None


def tod_follows(start: TimeOfDay, end: TimeOfDay) -> str:
    """What the time of day kept up with across the run: the host's clock, the TSC, both
    (they did not part), or neither."""
    tod = end.seconds - start.seconds
    host = end.host_s - start.host_s
    tsc = end.tsc_s - start.tsc_s
    by_host, by_tsc = abs(tod - host) <= TOD_SLACK_S, abs(tod - tsc) <= TOD_SLACK_S
    figures = f"{tod} s by the time of day, {host:.1f} s by the host, {tsc:.1f} s by the TSC"
    if by_host and by_tsc:
        return f"followed both ({figures})"
    if by_host:
        return f"followed the host's clock, not the TSC ({figures})"
    if by_tsc:
        return f"followed the TSC, not the host's clock ({figures})"
    return f"followed neither ({figures})"


@dataclass(frozen=True)
class Deschedule:
    """What one tick source did across one stop, from the guest's report."""
    pause_ms: float             # the stop the host applied
    longest_gap_ms: float       # the longest stolen gap any probe saw
    hz: float                   # the tick's programmed rate
    catchup: int                # of the backlog at the stop
    lost: int
    peak_ticks: int             # its peak, in ticks (0: none opened at the stop)
    closed_ms: float            # how long it took to close
    max_ahead_ms: float         # furthest tick time ran ahead of the reference


def tsc_through(d: Deschedule) -> str:
    """Did the TSC run through the stop?  It did if a probe saw a gap of most of its length;
    it stopped with the VM if no gap came near it."""
    if d.longest_gap_ms >= 0.5 * d.pause_ms:
        return f"runs (a {d.longest_gap_ms:.0f} ms gap seen for a {d.pause_ms:.0f} ms stop)"
    return (f"stops with the VM (the longest gap seen was {d.longest_gap_ms:.1f} ms, "
            f"for a {d.pause_ms:.0f} ms stop)")


def tick_behaviour(d: Deschedule) -> str:
    """What the tick source did with the ticks of the stop (the backlog that opened at it).

    ahead     tick time got half the stop or more ahead of the reference: the device
              delivered ticks for time its reference never saw pass;
    frozen    nothing owed at the stop: the tick source stopped with the clock it is measured
              by (or, like QEMU's RTC through a QMP stop, dropped the ticks of a time the
              reference never saw);
    storm     the owed ticks came back within one period, all at once;
    catch-up  most owed ticks delivered faster than the rate until the backlog closed; the
              multiple is (catch-up ticks + the ticks of the closing time) / the closing time;
    lost      most owed ticks never delivered: the device merged them.
    """
    period_ms = 1000.0 / d.hz
    if d.max_ahead_ms >= 0.5 * d.pause_ms:
        return (f"ahead: tick time ran {d.max_ahead_ms:.0f} ms ahead of the reference "
                f"({d.catchup} catch-up ticks)")
    if d.peak_ticks == 0:
        ahead = (f" (tick time ran {d.max_ahead_ms:.0f} ms ahead at most)"
                 if d.max_ahead_ms >= period_ms else "")
        return "frozen: nothing was owed at the stop" + ahead
    if d.catchup > 0 and d.catchup >= d.lost:
        if d.closed_ms < period_ms:
            return f"storm: {d.catchup} owed ticks delivered within one period"
        closing_s = d.closed_ms / 1000.0
        multiple = 1.0 + d.catchup / (closing_s * d.hz)
        what = (f"catch-up: a backlog of {d.peak_ticks} ticks closed in {d.closed_ms:.0f} ms, "
                f"{d.catchup} catch-up ticks, at {multiple:.1f} times the rate")
        return what + (f"; {d.lost} lost" if d.lost else "")
    if d.lost > 0:
        return (f"lost: {d.lost} of a backlog of {d.peak_ticks} ticks never delivered" +
                (f", {d.catchup} caught up" if d.catchup else ""))
    return f"a backlog of {d.peak_ticks} ticks, with neither catch-up nor lost ticks counted"


def deschedule_of(r, pause_ms: float, window: tuple) -> Deschedule:
    """The figures of one descheduled accounting run: the tick clock's, and of the backlogs
    that opened in window (guest seconds), the one at the stop, the largest if several."""
    c = lines.tick_clock(r)
    hz = float(lines.tick_rate(r)["programmed_hz"])
    gaps = [float(t.yaml.get("steal_longest_ms", 0)) for t in lines.tasks(r).values()]
    at_stop = [b for b in lines.backlogs(r) if window[0] <= b.guest_s <= window[1]]
    big = max(at_stop, key=lambda b: b.peak_ticks, default=None)
    return Deschedule(pause_ms=pause_ms, longest_gap_ms=max(gaps, default=0.0), hz=hz,
                      catchup=big.catchup if big else 0, lost=big.lost if big else 0,
                      peak_ticks=big.peak_ticks if big else 0,
                      closed_ms=big.closed_ms if big else 0.0,
                      max_ahead_ms=float(c["max_ahead_ms"]))


@dataclass(frozen=True)
class RateRow:
    device: str
    claim: str
    reference: str
    programmed_hz: str
    measured_hz: str
    error_ppm: str
    bound_ppm: str
    verdict: str


def verdict_of(t) -> str:
    if t.directive == "SKIP":
        return "not judged" if t.reason and t.reason.startswith("not judged") else "skipped"
    if t.directive == "TODO":
        return "todo"
    return "ok" if t.ok else "NOT OK"


def rate_rows(r) -> list:
    """Every check with a programmed and a measured rate, and every frequency agreement."""
    rows = []
    for t in r.tap.tests:
        y = t.yaml or {}
        m = MEASURED_BY_RE.search(t.description)
        if "measured_hz" in y and "programmed_hz" in y:
            claim = MEASURED_BY_RE.sub("", t.description)
            ref = m.group(1) if m else "tsc"
        elif " frequency agrees with " in t.description and "error_ppm" in y:
            claim, ref = t.description, t.description.rsplit(" ", 1)[-1]
        else:
            continue
        bound = y.get("tolerance_ppm", y.get("bound_ppm", ""))
        rows.append(RateRow(t.description.split(" ", 1)[0].lower(), claim, ref,
                            str(y.get("programmed_hz", "")), str(y.get("measured_hz", "")),
                            str(y.get("error_ppm", "")), str(bound), verdict_of(t)))
    return rows


# The devices whose step is read off a banner line: device -> (the line, the figure in it, the
# step it makes).  One table rather than one search each, since they differ only in these.
_BANNER_STEPS = {
    "tsc": ("tsc", r"([\d.]+) MHz", lambda mhz: f"{1000.0 / float(mhz):.3f} ns"),
    "pmtimer": ("pmtimer", r"(\d+) Hz", lambda hz: f"{1e9 / int(hz):.0f} ns"),
    "hpet": ("hpet", r"period (\d+) fs", lambda fs: f"{int(fs) / 1e6:g} ns"),
    "lapic": ("lapic timer", r"([\d.]+) MHz at divide by 1",
              lambda mhz: f"{1000.0 / float(mhz):.3f} ns (timer count)"),
}


def resolution(device: str, banner: dict) -> str:
    """The finest step of the device's counter (or of its interrupt rate), from the banner."""
    if device in _BANNER_STEPS:
        line, pattern, step = _BANNER_STEPS[device]
        m = re.search(pattern, banner.get(line, ""))
        return step(m.group(1)) if m else ""
    if device == "pit":
        return f"{1e9 / PIT_INPUT_HZ:.0f} ns (its input clock)"
    if device == "rtc":
        return f"1 s time of day; periodic interrupt down to {1e6 / RTC_FINEST_PERIODIC_HZ:.0f} us"
    return ""


def presence(device: str, r) -> tuple:
    """(present?, what the guest said): from the banner line the device has, else from the
    reason its checks were skipped with."""
    banner = r.tap.banner
    if device in banner:
        text = banner[device]
        # the guest says "none (why)" or "no <what>" for a device it did not find
        return (not text.startswith(("none", "no ")), text)
    mine = [t for t in r.tap.tests if t.description.lower().startswith(device + " ")]
    judged = [t for t in mine if t.directive != "SKIP" or
              (t.reason or "").startswith("not judged")]
    if judged:
        return (True, f"{len(mine)} checks")
    if mine:
        return (False, mine[0].reason or "skipped")
    return (False, "no check ran")
