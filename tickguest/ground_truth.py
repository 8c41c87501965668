"""Bounds on the stolen time a guest can have seen, from what the host knows it did.

The guest's probes count a gap in a busy loop's own CPU time longer than the threshold T as
stolen (acct/steal.h).  The host knows when it stopped QEMU (Guest.pauses) and, from the
kernel's schedstat sampled every 10 ms, how long the vCPU thread was off the CPU and how long
it waited, runnable, for one (Guest.vcpu_off_cpu_s, vcpu_runqueue_wait_s).  Between the two:

  S <= off-CPU + host kernel + host steal + host frozen + gaps x T + stretches x host tick
       + S x tsc_ppm
      off-CPU, over stretches that hold the guest's whole run: no stolen time can be more;
      host kernel: the vCPU thread's on-CPU time in the host kernel, where no guest
        instruction runs either: above all the faults that fill QEMU's memory on first touch
        (on a host that is itself a virtual machine, memory its hypervisor hands back cold,
        a 2 MB page can take milliseconds), which the probes rightly count; the kernel only
        samples this time at its ticks, so the bound is the most the ticks seen allow
        (kernel_ms_bound);
      host steal: the time the host's own hypervisor took from the host's CPUs, in which
        the host saw the vCPU thread on the CPU;
      host frozen: the time that hypervisor stopped the whole host without calling it steal,
        from the harness's sampler waking late (Guest.host_frozen_s);
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

import math
import os

from .vcpu import host_tick_s
from . import report_lines as lines

ROUNDING_MS = 1

# How rarely kernel_ms_bound may fall short of the truth: once in ten thousand runs.
KERNEL_MISS = 1e-4


def poisson_upper(k: int, miss: float = KERNEL_MISS) -> float:
    """The largest Poisson mean that still gives k or fewer events with probability miss:
    the one-sided upper confidence bound on a mean from one count k (exact, by bisection on
    the cumulative probability, which falls as the mean grows)."""
    def at_most_k(mean):        # each term from logs: e^-mean alone underflows past 745
        return sum(math.exp(i * math.log(mean) - mean - math.lgamma(i + 1))
                   for i in range(k + 1))
    lo, hi = float(k), float(k) + 10 * math.sqrt(k + 1) + 20
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if at_most_k(mid) > miss else (lo, mid)
    return hi


def kernel_ms_bound(g, stretches) -> float:
    """The most time the vCPU thread can have spent in the host kernel over stretches, given
    the stime the samples saw (Guest.vcpu_kernel_s).  The kernel charges each of its
    scheduler ticks to user or kernel time by where it finds the thread, and splits the
    thread's exact run time in that proportion.  A stay in the kernel shorter than a tick is
    charged a whole tick or nothing, as it happens to straddle one, so over many stays the
    ticks charged are a Poisson count of the time in ticks; a longer stay is charged its
    length to within a tick, well inside that count's spread.  The bound is the count's
    upper confidence bound (poisson_upper).  Each sample is also rounded down to USER_HZ, a
    rounding per stretch."""
    tick = host_tick_s()
    seen = sum(g.vcpu_kernel_s(a, b) for a, b in stretches)
    rounding = len(stretches) / os.sysconf("SC_CLK_TCK")
    return (poisson_upper(math.ceil(seen / tick - 1e-9)) * tick + rounding) * 1000


def upper_ms(g, r, stretches) -> float:
    """The most stolen time the guest can have seen, its run held by stretches (host time):
    the vCPU thread's time off the CPU or in the host kernel, and the time the host's own
    hypervisor took from the host's CPUs (these hosts are virtual machines), with the probes'
    and the samples' granularity."""
    return sum(upper_parts(g, r, stretches).values())


def upper_parts(g, r, stretches) -> dict:
    """upper_ms's terms by name, in ms, for a message that says what was compared."""
    stolen = lines.stolen_ms(r)
    gaps, threshold_us = lines.steal_gaps(r)
    tsc_ppm = float(r.tap.test("TSC calibration").yaml["tsc_bound_ppm"])
    return {
        "off_cpu": sum(g.vcpu_off_cpu_s(a, b) for a, b in stretches) * 1000,
        "host_kernel": kernel_ms_bound(g, stretches),
        "host_steal": sum(g.host_steal_s(a, b) for a, b in stretches) * 1000,
        "host_frozen": sum(g.host_frozen_s(a, b) for a, b in stretches) * 1000,
        "gaps_x_threshold": gaps * threshold_us / 1000,
        "host_ticks": len(stretches) * host_tick_s() * 1000,
        "tsc_calibration": stolen * tsc_ppm / 1e6,
    }


def upper_text(g, r, stretches) -> str:
    """upper_ms with its terms, for an assertion's message."""
    parts = upper_parts(g, r, stretches)
    return f"{sum(parts.values()):.1f} = " + " + ".join(f"{k} {v:.1f}" for k, v in parts.items())


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
