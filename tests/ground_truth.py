"""Bounds on the stolen time a guest can have seen, from what the host knows it did.

The guest's probes count a gap in a busy loop's own CPU time longer than the threshold T as
stolen (acct/steal.h).  The host knows when it stopped QEMU (Guest.pauses) and, from the
kernel's schedstat sampled every 10 ms, how long the vCPU thread was off the CPU and how long
it waited, runnable, for one (Guest.vcpu_off_cpu_s, vcpu_runqueue_wait_s).  Between the two:

  S <= off-CPU + gaps x T + stretches x host tick + S x tsc_ppm
      off-CPU, over stretches that hold the guest's whole run: no stolen time can be more;
      gaps x T: each counted gap may hold, besides off-CPU time, on-CPU time of QEMU's own
        (leaving translated code, taking its lock), which the probes' measurements put under
        the threshold;
      a host tick a stretch: /proc brings a running thread's on-CPU time up to date at the
        host's scheduler tick, so the sample a stretch starts from can be short by one;
      S x tsc_ppm: the guest turns cycles into time with its TSC calibration, within its bound.
  S >= injected - interrupts - timeslices x T - margins - 1 ms
      injected: SIGSTOP pauses plus the vCPU thread's run-queue wait over a window inside the
        guest's run in which the host took the CPU (a stopped thread is not runnable and does
        not wait, so the two never count the same time);
      interrupts: steal inside a handler, where no probe runs, is at most the time in them;
      timeslices x T: a wait shorter than T is no gap the probes count, and there are no more
        separate waits than the times the vCPU thread was given the CPU;
      margins: the samples bracketing the window reach outside it, and wait there counts;
      1 ms: the guest prints S in whole ms, rounded down.

Both can fail: a guest that saw nothing fails the lower one by the whole injected time, one
that invented steal fails the upper one.
"""

import harness
import report_lines as lines

ROUNDING_MS = 1


def upper_ms(g, r, stretches) -> float:
    """The most stolen time the guest can have seen, its run held by stretches (host time):
    the vCPU thread's time off the CPU, and the time the host's own hypervisor took from the
    host's CPUs (these hosts are virtual machines), with the probes' and the samples'
    granularity."""
    stolen = lines.stolen_ms(r)
    gaps, threshold_us = lines.steal_gaps(r)
    tsc_ppm = float(r.tap.test("TSC calibration").yaml["tsc_bound_ppm"])
    off_cpu = sum(g.vcpu_off_cpu_s(a, b) for a, b in stretches) * 1000
    host_steal = sum(g.host_steal_s(a, b) for a, b in stretches) * 1000
    return off_cpu + host_steal + gaps * threshold_us / 1000 + \
        len(stretches) * harness.host_tick_s() * 1000 + stolen * tsc_ppm / 1e6


def lower_ms(g, r, window, stopped_s: float = 0.0) -> float:
    """The least stolen time the guest can have seen, given that the host stopped QEMU for
    stopped_s in all and kept the vCPU waiting as the samples say, within window."""
    _, threshold_us = lines.steal_gaps(r)
    injected = (stopped_s + g.vcpu_runqueue_wait_s(*window)) * 1000
    return injected - lines.irq_ms(r) - g.vcpu_timeslices(*window) * threshold_us / 1000 - \
        g.vcpu_bracket_margin_s(*window) * 1000 - ROUNDING_MS


def run_stretch(r, cut=()) -> list:
    """The stretches from QEMU's start to the accounting line, which hold the guest's run,
    with the (start, end) intervals of cut left out: the QMP pauses, in which the guest's
    clock stood still and no stolen time can have been seen."""
    t = next(t for t, text in r.lines if text.startswith("# accounting:"))
    edges = [r.started] + [e for p in cut for e in p] + [t]
    return list(zip(edges[::2], edges[1::2]))
