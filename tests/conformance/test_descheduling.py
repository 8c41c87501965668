"""Stolen time the way real hosts take it (issue #9), held to the host's ground truth.

Four ways for the host to take the CPU from the VM, on a device that catches up (the RTC in
QEMU's slew mode, through the IOAPIC, with the sponge running) and on one that loses the ticks
it could not deliver (the PIT, no sponge):

  sigstop     SIGSTOP/SIGCONT of QEMU, 150 ms of every 500 ms (Guest.run_pauses);
  qmp         QMP stop/cont on the same schedule: QEMU stops the vCPU and, under TCG, the TSC,
              so the guest loses no time it can see;
  cap         QEMU's threads in a CPU cgroup, 70 ms of CPU in every 100 ms (host_steal.CpuCap);
  contention  the vCPU thread pinned to one host CPU beside a busy process (Contention).

What the host took is H = the SIGSTOP pauses + the vCPU thread's run-queue wait.  A stopped
thread is not runnable, so the pauses are not in its run-queue wait; a throttled or contended
one is runnable and waits (the kernel's schedstat, sampled every 10 ms by Guest).  QMP's pauses
are in neither: the guest's clock stops with it.

The stolen time S the guest saw is held between two bounds, each term derived:

  S <= off-CPU + gaps x T + one host tick + S x tsc_ppm
      off-CPU: the vCPU thread's wall time less its on-CPU time from QEMU's start to the
        accounting line (Guest.vcpu_off_cpu_s; for QMP, outside the pauses), which holds the
        whole run;
      gaps x T: each gap the probes count may hold, besides off-CPU time, on-CPU time of QEMU's
        own (leaving translated code, taking its lock), which the probes' measurements put
        under the threshold T (acct/steal.h);
      one host tick: /proc brings a running thread's on-CPU time up to date at the host's
        scheduler tick, so the first sample can be short by one (a tick per stretch for QMP);
      S x tsc_ppm: the guest turns cycles into time with its TSC calibration, within its bound.
  S >= H_injected - interrupts - timeslices x T - margins - 1 ms
      H_injected: H over the window the harness took the CPU in (the pauses' span, or while
        the cap or the contention held), which lies inside the guest's run;
      interrupts: steal inside an interrupt handler is unseen, and at most the time in them;
      timeslices x T: a wait shorter than T is not a gap the probes count, and there are no
        more separate waits than the times the vCPU thread was given the CPU;
      margins: the samples that bracket the window reach outside it, and wait there counts;
      1 ms: the guest prints S in whole ms, rounded down.

Then the accounting, as the guest's own checks say it: steal-aware sampling, the method
tickguest recommends, holds under all four (its checks ok, none a TODO, the share of stolen time
it charged to the workload judged and inside its bound); plain sampling is never a failure, and
under contention its over-charge is reported as a TODO, not ok.

`make test` runs each way on both devices; `make conformance` adds the other cap shapes
(20 of 50 ms, 700 of 1000 ms) and stronger contention.
"""

from dataclasses import dataclass

import pytest

import harness
import host_steal
import report_html
import report_lines as lines

pytestmark = pytest.mark.conformance

DURATION_S = 8
HORIZON_S = 6.0         # the host takes the CPU for this long after the run starts
PAUSES = harness.FixedPauses(period_s=0.5, duty=0.3)
ROUNDING_MS = 1         # the accounting line's stolen figure is in whole ms, rounded down

DEVICES = {
    "rtc": ("timer=rtc irq=ioapic sponge=run", ["-rtc", "driftfix=slew"]),
    "pit": ("timer=pit irq=ioapic sponge=off", []),
}


@dataclass(frozen=True)
class How:
    name: str           # for the test id and the HTML report
    method: str         # "signal", "qmp", "cap", "contention"
    make: object = None  # a host_steal.HostSteal factory, for cap and contention

    def steal(self):
        return self.make() if self.make else None


WAYS = [How("sigstop", "signal"), How("qmp", "qmp"),
        How("cap-70-100", "cap", lambda: host_steal.CpuCap(70, 100)),
        How("contention-1", "contention", lambda: host_steal.Contention(1))]
FULL_WAYS = [How("cap-20-50", "cap", lambda: host_steal.CpuCap(20, 50)),
             How("cap-700-1000", "cap", lambda: host_steal.CpuCap(700, 1000)),
             How("contention-2-nice-5", "contention", lambda: host_steal.Contention(2, nice=5))]


def cases():
    out = []
    for device in DEVICES:
        for how in WAYS + FULL_WAYS:
            marks = (pytest.mark.full,) if how in FULL_WAYS else ()
            out.append(pytest.param(device, how, marks=marks, id=f"{device}-{how.name}"))
    return out


class Run:
    """One 8 s run with the CPU taken one way for its first 6 s; both sides' figures."""

    def __init__(self, kernel, device, how, records):
        self.device, self.how = device, how
        args, extra = DEVICES[device]
        cmdline = f"suite=accounting {args} duration={DURATION_S}s stats=500ms"
        g = harness.Guest(kernel=kernel, cmdline=cmdline, extra_args=extra, sample_vcpu=True,
                          qmp=how.method == "qmp", timeout=harness.timeout_for(DURATION_S))
        steal = how.steal()
        with g:
            if steal is None:
                g.run_pauses(PAUSES, horizon_s=HORIZON_S, method=how.method)
            else:
                g.run_host_steal(steal, horizon_s=HORIZON_S)
            self.r = g.wait()
        self.g = g
        if steal is None:
            self.window = (g.pauses[0][0], g.pauses[-1][1]) if g.pauses else None
            shaded = g.pauses
        else:
            self.window = g.host_steal_window
            shaded = [self.window] if self.window else []
        records.append(report_html.record_from(self.r, shaded, f"{device}, {how.name}",
                                               how.method))

    def line_time(self, prefix):
        return next(t for t, text in self.r.lines if text.startswith(prefix))

    # -- the host's view

    def injected_ms(self):
        """H over the window the harness took the CPU in."""
        stopped = sum(e - s for s, e in self.g.pauses) if self.how.method == "signal" else 0
        return (stopped + self.g.vcpu_runqueue_wait_s(*self.window)) * 1000

    def off_cpu_ms(self):
        """The vCPU thread's off-CPU time over the run, with the number of stretches it was
        summed over; for QMP the pauses are left out (the guest's clock stood still)."""
        edges = [self.r.started, self.line_time("# accounting:")]
        if self.how.method == "qmp":
            edges[1:1] = [t for p in self.g.pauses for t in p]
        stretches = list(zip(edges[::2], edges[1::2]))
        return sum(self.g.vcpu_off_cpu_s(a, b) for a, b in stretches) * 1000, len(stretches)


def check_verdict(run):
    r = run.r
    assert harness.check_consistent(r) == [], r.summary()
    failed = [t for t in r.tap.tests if t.failed]
    if run.how.method == "qmp" and run.device == "rtc":
        # QEMU's RTC keeps host time through a QMP stop and delivers its ticks afterwards:
        # tick time runs ahead of the frozen TSC, and the guest says so (test_pauses.py)
        assert r.status == 1, r.summary()
        assert all(t.description.startswith("rtc tick time never ran ahead") for t in failed), \
            r.summary()
    else:
        assert r.status == 0, r.summary()


def check_stolen(run):
    r, g = run.r, run.g
    stolen = lines.stolen_ms(r)
    gaps, threshold_us = lines.steal_gaps(r)
    t_ms = threshold_us / 1000
    tsc_ppm = float(r.tap.test("TSC calibration").yaml["tsc_bound_ppm"])
    off_cpu, stretches = run.off_cpu_ms()
    upper = off_cpu + gaps * t_ms + stretches * harness.host_tick_s() * 1000 + \
        stolen * tsc_ppm / 1e6
    assert stolen <= upper, (stolen, upper, off_cpu, gaps)
    assert run.window is not None, "the host never took the CPU"
    injected = run.injected_ms()
    slices = g.vcpu_timeslices(*run.window)
    margins = g.vcpu_bracket_margin_s(*run.window) * 1000
    lower = injected - lines.irq_ms(r) - slices * t_ms - margins - ROUNDING_MS
    assert stolen >= lower, (stolen, lower, injected, slices, margins)
    print(f"{run.device}, {run.how.name}: stolen seen {stolen} ms in {gaps} gaps; host took "
          f"{injected:.1f} ms in its window, {off_cpu:.1f} ms off-CPU in all; "
          f"bounds [{lower:.1f}, {upper:.1f}]")


def check_accounting(run):
    r = run.r
    aware = lines.tasks(r, lines.STEAL_AWARE)
    assert aware and all(t.ok and t.directive is None for t in aware.values()), \
        [t.line for t in aware.values()]
    share = lines.share_check(r, lines.STEAL_AWARE)
    if run.how.method == "qmp":
        # nothing stolen that the guest could see: too little to judge, and it says so
        assert share.directive == "SKIP" and "too little" in share.reason, share.line
    else:
        assert share.ok and share.directive is None, (share.line, share.yaml)
    plain = [t for t in r.tap.tests if t.description.startswith(("task ", lines.PLAIN))
             and lines.PLAIN in t.description]
    assert not any(t.failed for t in plain), [t.line for t in plain if t.failed]
    if run.how.method == "contention":
        p = lines.share_check(r, lines.PLAIN)
        assert p.directive == "TODO" and not p.ok, (p.line, p.yaml)
    shares = lines.shares(r)
    print(f"{run.device}, {run.how.name}: share of the stolen time charged to the workload: "
          f"plain {shares[lines.PLAIN]}%, steal-aware {shares[lines.STEAL_AWARE]}%, exact "
          f"{shares['exact']}% of {shares['stolen_ms']} ms")


@pytest.mark.parametrize("device, how", cases())
def test_descheduled(kernel, run_records, device, how):
    steal = how.steal()
    if steal is not None and steal.unavailable():
        pytest.skip(f"{steal.describe()}: {steal.unavailable()}")
    run = Run(kernel, device, how, run_records)
    check_verdict(run)
    check_stolen(run)
    check_accounting(run)
