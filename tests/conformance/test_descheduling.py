"""Stolen time the way real hosts take it, held to the host's ground truth.

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

The stolen time the guest saw is held between two bounds derived from those figures
(tickguest/ground_truth.py, which says how each term comes about).

Then the accounting, as the guest's own checks say it: steal-aware sampling, the method
tickguest recommends, holds under all four (its checks ok, none left not judged, the share of
stolen time it charged to the workload judged and inside its bound); plain sampling is never a
failure, and under contention, where it cannot see the steal, its share check is not judged
and its YAML shows the over-charge (outside its bound).

`make test` runs each way on both devices; `make conformance` adds the other cap shapes
(20 of 50 ms, 700 of 1000 ms) and stronger contention.
"""

from dataclasses import dataclass

import pytest

from tickguest import ground_truth
import tickguest as tg
from tickguest import host_steal
from tickguest import report_html
from tickguest import report_lines as lines

pytestmark = pytest.mark.conformance

DURATION_S = 8
HORIZON_S = 6.0         # the host takes the CPU for this long after the run starts
PAUSES = tg.FixedPauses(period_s=0.5, duty=0.3)

DEVICES = {
    "rtc": ("timer=rtc irq=ioapic sponge=run", tg.RTC_SLEW),
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
        g = tg.Guest(kernel=kernel, cmdline=cmdline, extra_args=extra, sample_vcpu=True,
                          qmp=how.method == "qmp", timeout=tg.timeout_for(DURATION_S))
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

    def stopped_s(self):
        """How long the host stopped QEMU: the pauses, if they were SIGSTOPs (a QMP stop stops
        the guest's clock with it, so it takes nothing the guest can see)."""
        return sum(e - s for s, e in self.g.pauses) if self.how.method == "signal" else 0.0

    def stretches(self):
        """The run, QEMU's start to the accounting line; for QMP, the pauses cut out."""
        return ground_truth.run_stretch(self.r, self.g.pauses if self.how.method == "qmp" else ())


def check_verdict(run):
    r = run.r
    assert tg.check_consistent(r) == [], r.summary()
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
    assert run.window is not None, "the host never took the CPU"
    stolen = lines.stolen_ms(r)
    upper = ground_truth.upper_ms(g, r, run.stretches())
    lower = ground_truth.lower_ms(g, r, run.window, run.stopped_s())
    print(f"{run.device}, {run.how.name}: stolen seen {stolen} ms; "
          f"bounds [{lower:.1f}, {upper:.1f}]")
    assert lower <= stolen <= upper, \
        (lower, stolen, ground_truth.upper_text(g, r, run.stretches()))


def check_accounting(run):
    r = run.r
    aware = lines.tasks(r, lines.STEAL_AWARE)
    assert aware and all(t.ok and t.directive is None for t in aware.values()), \
        [t.line for t in aware.values()]
    share = lines.share_check(r, lines.STEAL_AWARE)
    if share.directive == "SKIP":
        # QMP takes nothing the guest can see; only a loaded host's own steal can be judged
        assert run.how.method == "qmp" and "too little" in share.reason, share.line
    else:
        assert share.ok and share.directive is None, (share.line, share.yaml)
    plain = [t for t in r.tap.tests if t.description.startswith(("task ", lines.PLAIN))
             and lines.PLAIN in t.description]
    assert not any(t.failed for t in plain), [t.line for t in plain if t.failed]
    if run.how.method == "contention":
        p = lines.share_check(r, lines.PLAIN)
        assert p.directive == "SKIP" and p.reason.startswith("not judged"), (p.line, p.yaml)
        assert p.yaml["inside_bound"] is False, (p.line, p.yaml)
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
