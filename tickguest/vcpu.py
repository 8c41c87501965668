"""What the host can know of the guest's vCPU: QEMU's threads' on-CPU, run-queue and kernel
time (/proc/PID/task/*/schedstat and stat), the host's own steal and tick, and a sampler that
brackets any interval of the run with them."""

from __future__ import annotations

import os
import re
import time
from typing import Optional


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



VCPU_SAMPLE_PERIOD_S = 0.01  # sample_vcpu's period
SAMPLER_LATE_S = 0.001       # a sampler round woken later than this counts (host_frozen_s)


class VcpuWatch:
    """Guest's view of QEMU's threads from /proc: their CPU times, the vCPU sampler
    (sample_vcpu=True), and the figures over an interval that the ground truth
    (ground_truth.py) bounds the guest's stolen time by.  Guest (qemu.py) provides the
    process and starts the sampler."""

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

