"""The guest's figures against what the host really did.

The host pauses QEMU on a schedule it records with its own monotonic clock, and reads the vCPU
thread's CPU time from /proc while the guest runs (tg.Guest).  Every case of the matrix
tick source x sponge mode x steal level x pause pattern is held to the ground truth:

- the stolen time the guest saw against the pauses injected and the vCPU thread's time off
  the CPU or in the host kernel (tickguest/ground_truth.py);
- a catch-up device (the RTC in QEMU's slew mode, through the IOAPIC) pays every backlog back
  within its peak in periods, and loses nothing;
- a lossy device (PIT, local APIC timer, HPET under TCG) loses pause / period ticks a pause,
  within one either way at each end, and pays nothing back;
- with a sponge, at least 95 % of the catch-up ticks land on it and every spinner's sampled
  share stays inside its 99 % binomial interval (the guest's own checks, status 0);
- without one, on a catch-up device, the spinners' sampled time exceeds their true time by the
  stolen time: the distortion, measured, not hidden.

`make test` runs the cases not marked `full`, a representative handful; `make conformance`
runs the whole matrix (QEMU= and QEMUOPTS= choose the QEMU and add arguments).  Bounds are
derived next to each assertion from tick periods, pause counts and the host's own view; none
is tuned to a run.
"""

import re
import zlib

import pytest

from tickguest import ground_truth
import tickguest as tg
from tickguest import report_html
from tickguest import report_lines as lines

pytestmark = pytest.mark.conformance

DURATION_S = 8
HORIZON_S = 6.0         # pauses end this long after the run starts; the rest is quiet

SOURCES = ["pit", "rtc", "lapic", "hpet"]
SPONGES = ["off", "run", "charge"]
LEVELS = [0.0, 0.2, 0.4]
PATTERNS = ["fixed", "random", "long"]
CATCHUP = {"rtc"}       # the sources that pay backlogs back under TCG (docs/timekeeping.md)

# The cases `make test` runs: every source, every sponge mode, both steal levels, every
# pattern, each at least once.
SUBSET = {
    ("rtc", "run", 0.2, "fixed"),
    ("rtc", "off", 0.2, "fixed"),
    ("rtc", "charge", 0.4, "random"),
    ("pit", "off", 0.2, "fixed"),
    ("lapic", "run", 0.4, "long"),
    ("hpet", "charge", 0.2, "random"),
    ("pit", "run", 0.0, "none"),
}

def schedule(level, pattern, seed):
    """The pauses for a steal level: a share `level` of the horizon, in three shapes."""
    if level == 0.0:
        return None
    if pattern == "fixed":
        return tg.FixedPauses(period_s=1.0, duty=level)
    if pattern == "random":
        mean_pause = 0.25
        return tg.RandomPauses(seed=seed, mean_pause_s=mean_pause,
                                    mean_gap_s=mean_pause * (1 - level) / level)
    return tg.OnePause(at_s=1.0, length_s=level * (HORIZON_S - 1.0))


def cases():
    out = []
    for src in SOURCES:
        for sponge in SPONGES:
            for level in LEVELS:
                for pattern in (PATTERNS if level else ["none"]):
                    key = (src, sponge, level, pattern)
                    marks = () if key in SUBSET else (pytest.mark.full,)
                    out.append(pytest.param(*key, marks=marks,
                                            id=f"{src}-{sponge}-{int(level * 100)}%-{pattern}"))
    return out


class Case:
    """One run of the matrix and what both sides saw."""

    def __init__(self, kernel, src, sponge, level, pattern, method="signal", records=None):
        self.src, self.sponge, self.level = src, sponge, level
        cmdline = (f"suite=accounting timer={src} irq=ioapic sponge={sponge} "
                   f"duration={DURATION_S}s stats=500ms")
        extra = tg.RTC_SLEW if src == "rtc" else []
        sched = schedule(level, pattern, seed=zlib.crc32(f"{src}-{sponge}-{level}".encode()))
        self.schedule = sched
        # run_pauses() adds the planned pause time to the timeout
        g = tg.Guest(kernel=kernel, cmdline=cmdline, extra_args=extra, qmp=method == "qmp",
                          sample_vcpu=True, timeout=tg.timeout_for(DURATION_S))
        with g:
            if sched:
                g.run_pauses(sched, horizon_s=HORIZON_S, method=method)
            self.r = g.wait()
        self.guest = g
        self.pauses = [e - s for s, e in g.pauses]
        if records is not None:
            name = f"{src}, sponge={sponge}, {level * 100:.0f}% steal, {pattern}, {method}"
            records.append(report_html.record_from(self.r, g.pauses, name,
                                                   method if sched else "none"))

    # -- the host's view

    def runqueue_wait_ms(self):
        return self.guest.runqueue_wait_s() * 1000


def check_steal(c):
    """Stolen time seen against what the host did: at least the pauses and the vCPU thread's
    wait over their span, less what no probe can see; never more than the vCPU thread spent
    off the CPU, with the allowances tickguest/ground_truth.py derives."""
    stolen = lines.stolen_ms(c.r)
    if c.guest.pauses:
        window = (c.guest.pauses[0][0], c.guest.pauses[-1][1])
        low = ground_truth.lower_ms(c.guest, c.r, window, sum(c.pauses))
        assert stolen >= low, (stolen, low, c.pauses)
    stretch = ground_truth.run_stretch(c.r)
    high = ground_truth.upper_ms(c.guest, c.r, stretch)
    assert stolen <= high, (stolen, ground_truth.upper_text(c.guest, c.r, stretch))


def check_device(c):
    clock, p = lines.tick_clock(c.r), lines.tick_period_ms(c.r)
    if c.src in CATCHUP:
        # Slew mode re-injects the ticks of a pause at two to eight a period and loses none of
        # them; only a host that held QEMU's threads off the CPU can leave a tick it never
        # delivers (seen once in a loaded `make test`: one tick, status 0 all the same),
        # and then no more than the periods they waited.
        assert clock["lost"] <= c.runqueue_wait_ms() / p, (clock, c.runqueue_wait_ms())
        run_start = next(t for t, text in c.r.lines if re.match(tg.RUNNING_LINE, text))
        for b in lines.backlogs(c.r):
            # at least one re-injected tick a period: closed within its peak, and later only
            # by what QEMU's threads waited for the CPU meanwhile (seen in a loaded make test:
            # 25 ticks closed in 204.9 ms against 203.1).  The backlog's own times are the
            # TSC's since the run started, which under SIGSTOP keeps host time; a period
            # either side for where the run's start falls against its line
            opened = run_start + b.guest_s - p / 1000
            waited = c.guest.runqueue_wait_s(opened, opened + (b.closed_ms + 2 * p) / 1000)
            assert b.closed_ms <= (b.peak_ticks + 1) * p + waited * 1000, (b, waited)
    else:
        expected = sum(round(d * 1000 / p) - 1 for d in c.pauses)
        slack = 2 * len(c.pauses)
        assert expected - slack <= clock["lost"] <= expected + slack + \
            c.runqueue_wait_ms() / p, (clock, c.pauses)
        # nothing paid back: only ticks a waiting host bunched up
        assert clock["catchup_ticks"] <= c.runqueue_wait_ms() / p + clock["backlogs"], clock


def check_accounting(c):
    tasks = lines.tasks(c.r)
    catchup = sum(int(t.yaml["catchup_ticks"]) for t in tasks.values())
    if c.sponge != "off":
        s = lines.sponge(c.r)
        if s["catchup_ticks"]:
            # the sponge misses only the catch-up ticks nothing woke it for (acct/acct_report.c)
            assert s["escaped"] <= s["catchup_unowed"], s
    if c.sponge == "off" and c.src in CATCHUP and c.pauses:
        # Every tick is sampled to a spinner, so the spinners together were charged n periods;
        # true time is n periods less the stolen time and the interrupt time.  The excess is
        # the stolen time, to within the interrupt time and a period at each end.
        excess = sum(t.yaml["sampled_ms"] - t.yaml["true_ms"] for t in tasks.values())
        stolen, irq, p = lines.stolen_ms(c.r), lines.irq_ms(c.r), lines.tick_period_ms(c.r)
        assert abs(excess - stolen) <= irq + 2 * p + 1, (excess, stolen, catchup)
        assert catchup > 0


@pytest.mark.parametrize("src, sponge, level, pattern", cases())
def test_matrix(kernel, run_records, src, sponge, level, pattern):
    c = Case(kernel, src, sponge, level, pattern, records=run_records)
    assert c.r.status == 0, c.r.summary()
    assert tg.check_consistent(c.r) == [], c.r.summary()
    if c.schedule:
        assert c.pauses, "no pause was applied"
    check_steal(c)
    check_device(c)
    check_accounting(c)


def test_rtc_slew_through_the_8259_is_a_finding_not_a_crash(kernel):
    """QEMU 7.2's RTC in slew mode misfires through the 8259: an interrupt storm at many times
    the programmed rate, with no pause at all (docs/rtc.md).  The guest must come through it and
    report it: the tick rate check fails, saying the measured rate is every tick over the run,
    and tick time runs ahead.  Should a QEMU deliver the rate it was asked for, the run passes."""
    r = tg.run(kernel=kernel, cmdline="suite=accounting timer=rtc irq=pic duration=3s",
                    extra_args=tg.RTC_SLEW, timeout=tg.timeout_for(3))
    assert not r.timed_out and r.status in (0, 1), r.summary()
    assert tg.check_consistent(r) == [], r.summary()
    rate = r.tap.test("rtc ticks at the programmed rate")
    storm = float(rate.yaml["measured_hz"]) >= 2 * float(rate.yaml["programmed_hz"])
    ahead = r.tap.test("rtc tick time never ran ahead")
    if storm:
        assert not rate.ok and "problem" in rate.yaml, rate.line
        assert not ahead.ok and ahead.yaml["ahead_ticks"] > 0, ahead.line
        assert r.status == 1, r.summary()
    else:
        assert r.status == 0, r.summary()


def test_w_factor_from_the_host_view(kernel, run_records):
    """The correction of 'Correcting the Process level measurements of CPU time for Windows
    guest machines running under VMware ESX': w = the CPU share the host gave the vCPU / the
    busy share the guest reports.  With the sponge off and a fifth of the time stolen, the
    spinners were charged for the stolen time; w computed from /proc and applied to their
    sampled time must take away at least half of that excess in total.  Each task's corrected figure is printed, not bounded:
    the catch-up ticks fall on whoever runs, so w cannot put each task right."""
    c = Case(kernel, "rtc", "off", 0.2, "fixed", records=run_records)
    assert c.r.status == 0, c.r.summary()
    t0 = next(t for t, line in c.r.lines if line.startswith("# running "))
    t1 = next(t for t, line in c.r.lines if line.startswith("# accounting:"))
    host_share = 1 - c.guest.vcpu_off_cpu_s(t0, t1) / (t1 - t0)
    tasks = {name: t.yaml for name, t in lines.tasks(c.r).items()}
    ticks = sum(y["ticks"] for y in tasks.values())
    busy = sum(y["ticks"] for name, y in tasks.items() if name != "idle") / ticks
    w = host_share / busy
    sampled = sum(y["sampled_ms"] for y in tasks.values())
    true = sum(y["true_ms"] for y in tasks.values())
    corrected = w * sampled
    print(f"w = {w:.4f}: sampled {sampled:.1f} ms, corrected {corrected:.1f} ms, "
          f"true {true:.1f} ms")
    for name, y in tasks.items():
        print(f"  {name}: sampled {y['sampled_ms']:.1f}, x w {w * y['sampled_ms']:.1f}, "
              f"true {y['true_ms']:.1f} ms")
    assert abs(corrected - true) <= abs(sampled - true) / 2, (w, sampled, corrected, true)
