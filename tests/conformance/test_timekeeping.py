"""Timekeeping from the inside: the tick clock against the TSC, stolen time seen by
the guest's busy loops, and the sponge.

Pauses are SIGSTOP/SIGCONT of QEMU's process group, sent from here.  Every bound below comes
from what the host can know: the pauses it made (Guest.run_pauses), the vCPU thread's on-CPU
time from /proc, which no guest figure of stolen time can exceed (Guest.vcpu_off_cpu_s), and
how long QEMU's threads waited for a CPU, the most a loaded host can have held ticks back
(Guest.runqueue_wait_s).
"""

import re

import pytest

from tickguest import ground_truth
import tickguest as tg
from tickguest import report_lines as lines

pytestmark = pytest.mark.conformance

PAUSES = 4
PAUSE_S = 0.3
GAP_S = 0.9             # running time before each pause


class Run:
    """One guest run, optionally paused: GAP_S of running, then a PAUSE_S pause, `pauses`
    times, from the start of the tasks; the guest's report next to the host's view."""

    def __init__(self, kernel, cmdline, extra=(), pauses=0):
        g = tg.Guest(kernel=kernel, cmdline=cmdline, extra_args=list(extra),
                          sample_vcpu=True,
                          timeout=tg.timeout_for(tg.cmdline_duration_s(cmdline)))
        with g:
            if pauses:
                period = GAP_S + PAUSE_S
                g.run_pauses(tg.FixedPauses(period_s=period, duty=PAUSE_S / period),
                             horizon_s=pauses * period)
            self.r = g.wait()
        self.guest = g
        self.pauses = [end - start for start, end in g.pauses]   # host seconds each lasted
        assert len(self.pauses) == pauses, (g.pauses, self.r.summary())

    # -- the host's view

    def stolen_bounds_ms(self):
        """The least and the most stolen time the guest can have seen (tickguest/ground_truth.py):
        the pauses and the vCPU's wait over their span, and its off-CPU time over the run."""
        g = self.guest
        low = ground_truth.lower_ms(g, self.r, (g.pauses[0][0], g.pauses[-1][1]),
                                    sum(self.pauses)) if g.pauses else float("-inf")
        return low, ground_truth.upper_ms(g, self.r, ground_truth.run_stretch(self.r))

    def runqueue_wait_ms(self):
        """Time QEMU's threads were runnable but had no CPU, summed over all of them."""
        return self.guest.runqueue_wait_s() * 1000

    def end_hold_ms(self, p):
        """The most the host can have held back the run's last ticks: QEMU's threads' wait
        for a CPU and this machine's stolen time (Guest.host_steal_s) over the run's last five
        periods and one after.  A late tick's gap is judged lost two periods on, so one the
        run's end left unjudged is at most three periods old; the other two allow for the
        start line reaching the host after the run began (its time plus the run's length is
        taken for the end: the TSC keeps host time under SIGSTOP)."""
        g = self.guest
        t, text = next((t, text) for t, text in self.r.lines if re.match(tg.RUNNING_LINE, text))
        end = t + int(re.search(r"for (\d+) ms", text).group(1)) / 1000
        t0, t1 = end - 5 * p / 1000, end + p / 1000
        return (g.runqueue_wait_s(t0, t1) + g.host_steal_s(t0, t1)) * 1000


def assert_passed(run):
    assert run.r.status == 0, run.r.summary()
    assert tg.check_consistent(run.r) == [], run.r.summary()


def test_no_pause_rtc_slew_sees_no_catchup_and_no_steal_beyond_the_host(kernel):
    """RTC periodic ticks through the IOAPIC with QEMU's slew policy, nobody pausing the VM:
    the accounting holds, tick time keeps up, the stolen time the guest reports is no more
    than the vCPU thread really spent off the CPU, and catch-up ticks need a cause: a tick
    can only be owed after QEMU's threads waited for the CPU at least a period."""
    run = Run(kernel, "suite=accounting timer=rtc irq=ioapic sponge=run idle=poll w=1.25 "
              "duration=5s", tg.RTC_SLEW)
    assert_passed(run)
    assert run.r.tap.banner["irq routing"].startswith("IOAPIC"), run.r.tap.banner
    stolen, (_, high) = lines.stolen_ms(run.r), run.stolen_bounds_ms()
    assert stolen <= high, (stolen, high)
    c, p = lines.tick_clock(run.r), lines.tick_period_ms(run.r)
    assert c["catchup_ticks"] <= run.runqueue_wait_ms() / p + c["backlogs"], \
        (c, run.runqueue_wait_ms())
    # tick time never got a period ahead (a tick a quarter early is classed ahead: checks/run.c)
    assert c["overcorrected"] == 0 and c["max_ahead_ms"] < p, c
    # a stats line a second
    assert len(lines.stats(run.r)) >= 4, run.r.summary()
    # w= scales every task's sampled figure (to the microsecond the YAML is printed in)
    for t in lines.tasks(run.r).values():
        assert abs(t.yaml["w_corrected_ms"] - 1.25 * t.yaml["sampled_ms"]) <= 0.002, t.yaml


def test_the_console_task_writes_every_stats_line_and_is_accounted(kernel):
    """The tick formats its lines and the console task writes them from task context
    (kernel/console.h): every pair the tick clock counts reaches the serial port, whole and in
    order, none dropped, all of them between the run's start and the first of its checks
    (the last is queued by the tick that ended the run; the device checks come before the run,
    checks/suite.c); and the console task's time is a row of its own, not the workload's."""
    cmdline = "suite=accounting stats=100ms duration=3s"
    r = tg.run(kernel=kernel, cmdline=cmdline,
                    timeout=tg.timeout_for(tg.cmdline_duration_s(cmdline)))
    assert r.status == 0, r.summary()
    texts = [text for _, text in r.lines]
    stats = lines.stats(r)
    assert len(stats) == lines.tick_clock(r)["stats_lines"] >= 25, r.summary()
    assert [s.guest_s for s in stats] == sorted(s.guest_s for s in stats)
    assert lines.dropped_lines(r) == 0, r.summary()
    for i, text in enumerate(texts):
        if lines.stats_line(text):
            assert lines.DEVICE_RE.match(texts[i + 1]), texts[i:i + 2]
    start = next(i for i, text in enumerate(texts) if text.startswith("# running "))
    first_check = next(i for i, text in enumerate(texts)
                       if i > start and text.startswith(("ok ", "not ok ")))
    at = [i for i, text in enumerate(texts) if lines.stats_line(text)]
    assert start < min(at) and max(at) < first_check, (start, at[0], at[-1], first_check)
    console = lines.tasks(r)["console"].yaml
    # woken for the lines, not writing them all at the end: a dispatch for most pairs
    assert console["exact_ms"] > 0 and console["dispatches"] >= len(stats) / 2, console
    assert lines.tasks(r, lines.STEAL_AWARE)["console"].ok
    share = lines.share_check(r, lines.STEAL_AWARE).yaml
    spinners = sum(t.yaml["true_ms"] for name, t in lines.tasks(r).items()
                   if name in ("a", "b"))
    assert share["workload_true_ms"] == pytest.approx(spinners, abs=0.002), share


@pytest.mark.parametrize("clock", ["pmtimer", "hpet"])
def test_tick_time_against_another_reference(kernel, clock):
    """clock= holds tick time against the PM timer or the HPET counter instead of the TSC;
    the run, its length and its checks are the same."""
    r = tg.run(kernel=kernel, cmdline=f"suite=accounting clock={clock} duration=2s",
                    timeout=tg.timeout_for(2))
    assert r.status == 0, r.summary()
    assert r.tap.banner["tick clock"].startswith(f"against the {clock};"), r.tap.banner
    assert r.tap.test("pit ticks at the programmed rate").description.endswith(
        f"measured by the {clock}")
    assert r.tap.test("pit tick time never ran ahead of the").description.endswith(
        f"the {clock} by a period or more")


def test_hpet_clock_without_hpet_is_bad_configuration(kernel):
    r = tg.run(kernel=kernel, cmdline="suite=accounting clock=hpet duration=1s",
                    extra_args=["-no-hpet"], timeout=tg.timeout_for(1))
    assert r.status == 2, r.summary()
    assert r.tap.bail_out and r.tap.bail_out.startswith("clock=hpet:"), r.summary()


@pytest.mark.parametrize("sponge", ["run", "charge"])
def test_pauses_rtc_slew_catch_up_lands_on_the_sponge(kernel, sponge):
    """Four 300 ms pauses with the RTC catching up: every pause opens a backlog the RTC pays
    back fast, the sponge takes the catch-up ticks, the spinners' sampled shares stay inside
    their intervals (the guest's own checks, status 0), and the stolen time the guest saw
    matches the pauses."""
    run = Run(kernel, f"suite=accounting timer=rtc irq=ioapic sponge={sponge} duration=7s",
              tg.RTC_SLEW, pauses=PAUSES)
    assert_passed(run)
    p = lines.tick_period_ms(run.r)
    paused_ms = sum(run.pauses) * 1000
    big = [b for b in lines.backlogs(run.r) if b.peak_ticks >= PAUSE_S * 1000 / p / 2]
    assert len(big) == PAUSES, lines.backlogs(run.r)
    for b, (_, resumed) in zip(big, run.guest.pauses):
        # QEMU re-injects at two to eight ticks a period: paid within peak periods, unless the
        # host kept QEMU's threads (its device timers among them) waiting for a CPU meanwhile
        held = run.guest.runqueue_wait_s(resumed, resumed + (b.closed_ms + p) / 1000) * 1000
        assert b.closed_ms <= (b.peak_ticks + 1) * p + held, (b, held)
    # each backlog shows in the stats line of its interval, as the most it was behind by
    stats = lines.stats(run.r)
    for b in big:
        line = next(st for st in stats if st.guest_s >= b.guest_s)
        assert line.at_most_us >= b.peak_ticks * p * 1000 - p * 1000, (b, line)
    c = lines.tick_clock(run.r)
    # The RTC in slew mode loses nothing.  A loaded host can stall the catch-up for a period,
    # and the clock then judges ticks lost, but takes them back when they come (recovered).
    assert c["lost"] <= run.runqueue_wait_ms() / p, (c, run.runqueue_wait_ms())
    expected = paused_ms / p
    assert c["catchup_ticks"] + c["recovered"] >= expected - 2 * PAUSES, (c, expected)
    s = lines.sponge(run.r)
    # the sponge misses only the catch-up ticks nothing woke it for (acct/acct_report.c)
    assert s["escaped"] <= s["catchup_unowed"], s
    stolen, (low, high) = lines.stolen_ms(run.r), run.stolen_bounds_ms()
    assert low <= stolen <= high, (low, stolen, high, run.pauses)


@pytest.mark.parametrize("lostticks", ["ignore", "compensate"])
def test_pauses_pit_loses_ticks_and_compensation_restores_tick_time(kernel, lostticks):
    """The PIT under TCG merges the ticks missed in a pause: lost ticks, not catch-up; about
    pause / period of them a pause (the one delivered at resume, and the edges, +-1 each).
    With compensation, tick time ends within a period of the TSC and never ran ahead."""
    run = Run(kernel, f"suite=accounting timer=pit lostticks={lostticks} duration=7s",
              pauses=PAUSES)
    p = lines.tick_period_ms(run.r)
    c = lines.tick_clock(run.r)
    # Over-correction needs two ticks in a row delivered 3/4 period late (lib/tickclock.h),
    # which only a host that kept QEMU's threads off the CPU can do; the guest then reports it,
    # and the report is right.  Short of that, every check passes.
    wait_ticks = run.runqueue_wait_ms() / p
    assert c["overcorrected"] <= wait_ticks, (c, run.runqueue_wait_ms())
    failed = [t for t in run.r.tap.tests if t.failed]
    assert all(t.description.startswith(f"{lines.tick_source(run.r)} tick time never ran ahead")
               for t in failed), run.r.summary()
    assert run.r.status == (1 if failed else 0), run.r.summary()
    assert tg.check_consistent(run.r) == [], run.r.summary()
    # No catch-up from the pauses: a tick can only bunch up behind one that QEMU's threads
    # delayed while they waited for the CPU (a loaded host), never by more than that wait.
    assert c["catchup_ticks"] <= run.runqueue_wait_ms() / p + c["backlogs"], \
        (c, run.runqueue_wait_ms())
    expected = sum(round(d * 1000 / p) - 1 for d in run.pauses)
    assert expected - 2 * PAUSES <= c["lost"] <= expected + 2 * PAUSES + \
        run.runqueue_wait_ms() / p, (c, run.pauses)
    if lostticks == "compensate":
        assert c["compensated"] == c["lost"], c
        assert abs(c["behind_at_end_ms"]) < p * (1 + c["overcorrected"]), c
    else:
        assert c["compensated"] == 0, c
        # behind by the lost ticks, and by how late the last tick came against the device's
        # grid: under a period, unless the host held it back (seen in a loaded make test: 12.07
        # ms against a 10 ms period, the last tick 8 ms later than the run's others)
        hold = run.end_hold_ms(p)
        assert -p < c["behind_at_end_ms"] - c["lost"] * p < p + hold, (c, hold)
