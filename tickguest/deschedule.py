"""Taking the CPU from a running guest the ways a real host does: stops on a schedule (SIGSTOP
or QMP stop, pauses.py) and load that leaves it runnable without the CPU (a CPU cap or
contention, host_steal.py)."""

from __future__ import annotations

import re
import signal
import threading
import time
from typing import Optional

from .host_steal import HostSteal
from .machine import cmdline_duration_s
from .pauses import PauseSchedule, _finite, _require
from .qmp import QMPError


class PauseThreadError(RuntimeError):
    """The thread applying a pause schedule failed; raised by Guest.wait(), chained to the
    thread's own exception, with the run's Result as .result."""
    result = None


class HostStealError(PauseThreadError):
    """The thread applying host load (Guest.run_host_steal) failed, or lifting the load did;
    raised like PauseThreadError, of which it is a kind, so one except catches either."""


# Host-side figures of pausing and sampling.
UNPAUSED_TAIL_S = 1.0        # run_pauses' default horizon leaves this much of the run unpaused
RUNNING_LINE = r"^# running \d+ tasks"   # where run_pauses and run_host_steal start by default


class Descheduling:
    """Guest's descheduling methods.  A schedule or a load is applied from a helper thread
    that starts at a serial line and stops at a horizon; what was applied is kept in host
    monotonic time (pause_brackets, host_steal_window) beside the serial lines.  Guest (qemu.py)
    provides the process, the serial lines and the helper threads these use."""

    def run_pauses(self, schedule: PauseSchedule, start_after_line=RUNNING_LINE,
                   horizon_s: float = None, method: str = "signal") -> Optional[threading.Thread]:
        """Apply schedule from a background thread, starting when a serial line matches
        start_after_line: each pause at the line's arrival time plus its offset, for its
        length, in host seconds.  Returns the thread (kill() and wait() join it), or None if
        QEMU could not be started.

        horizon_s bounds the schedule (every pause ends by then, counted from the line); by
        default it is the command line's duration= less UNPAUSED_TAIL_S, so the end of the run
        is never paused.  The guest's duration is counted by its reference clock, which goes
        on through a SIGSTOP (TSC) but not through a QMP stop, so in wall time a QMP-paused
        run is longer by its pauses; the Guest's timeout is extended by the planned pauses.

        method="signal" stops QEMU's whole process group with SIGSTOP and resumes it with
        SIGCONT: the host deschedules the VM and its virtual clocks run on, as under a loaded
        host.  method="qmp" (needs qmp=True) uses QMP "stop" and "cont": QEMU stops its vCPUs,
        its virtual clock and, under TCG, the TSC, so the guest's busy loops see no gap; but a
        device timed by the host's clock goes on, and QEMU's RTC is, by default (-rtc
        clock=host): with driftfix=slew it delivers the ticks of the stop afterwards, and tick
        time runs ahead of the TSC (tests/conformance/test_pauses.py has the figures).

        Each pause applied is appended to Guest.pauses as (start, end) in time.monotonic()
        seconds: from when the stop had taken effect (the signal sent, or QMP's reply to
        "stop") to just before the resume was sent.  The thread stops when QEMU exits or is
        killed, cutting a pause short (its end is then when the thread noticed); it always
        sends the resume after a stop it attempted, whatever happened.  Its exception, if it
        has one, is kept in Guest.pause_error and raised by wait() (PauseThreadError).  If the
        line never comes, no pause is applied: Guest.pause_origin stays None."""
        if method not in ("signal", "qmp"):
            raise ValueError(f"method must be 'signal' or 'qmp', got {method!r}")
        if method == "qmp" and self.qmp_path is None:
            raise ValueError("method='qmp' needs a Guest made with qmp=True")
        if not isinstance(schedule, PauseSchedule):
            raise TypeError(f"schedule must be a PauseSchedule, got {type(schedule).__name__}")
        self._refuse_before_start("run_pauses")
        if self.pause_schedule is not None:
            raise RuntimeError("a Guest runs one pause schedule")
        horizon_s = self._horizon(horizon_s, "run_pauses")
        rx = re.compile(start_after_line)
        plan = list(schedule.pauses(horizon_s))
        self.pause_schedule, self.pause_plan = schedule, plan
        self.timeout += sum(length for _, length in plan)
        return self._start_at_line("pauses", rx, "pause_error", self._apply_pauses, plan, method)

    def _apply_pauses(self, origin: float, plan, method) -> None:
        self.pause_origin = origin
        for offset, length in plan:
            if not self._sleep_until(origin + offset):
                return
            if not self._pause_once(origin + offset + length, method):
                return

    # What run_pauses and run_host_steal have in common: refused before start(), a horizon
    # counted from a serial line, and a helper thread that waits for the line and keeps its
    # failure for wait() to raise.

    def _refuse_before_start(self, what: str) -> None:
        if self.proc is None and self.start_error is None:
            raise RuntimeError(f"start the guest (or enter its with block) before {what}()")

    def _horizon(self, horizon_s: Optional[float], what: str) -> float:
        """horizon_s, checked here so a bad one fails in the caller, or by default the command
        line's duration= less UNPAUSED_TAIL_S."""
        if horizon_s is None:
            return max(0.0, cmdline_duration_s(self.cmdline) - UNPAUSED_TAIL_S)
        _require(_finite(horizon_s) and horizon_s >= 0, what,
                 f"the horizon horizon_s must be a finite number of seconds >= 0, got "
                 f"{horizon_s!r}")
        return float(horizon_s)

    def _start_at_line(self, what: str, rx, error_attr: str, act, *args) \
            -> Optional[threading.Thread]:
        """Start a helper thread that waits for a serial line matching rx, then calls
        act(the line's stamp, *args); nothing happens if the line never comes.  Its exception
        goes to self.<error_attr>.  None, and no thread, if QEMU could not be started (wait()
        reports that)."""
        if self.proc is None:
            return None

        def helper():
            try:
                line = self.wait_for_line(rx, timeout=self.timeout)
                if line is not None:
                    act(line[0], *args)
            except BaseException as e:   # kept for wait() to raise: a thread's own is lost
                setattr(self, error_attr, e)

        return self._start_helper(helper, what)

    def _sleep_until(self, t: float) -> bool:
        """Sleep until monotonic time t, never less; False, at once, if QEMU ends first."""
        while True:
            left = t - time.monotonic()
            if left <= 0:
                return True
            if self._ended.wait(left):
                return False

    def _pause_once(self, end: float, method: str) -> bool:
        """One pause until monotonic time end; returns whether QEMU is still there."""
        held = None
        sent = time.monotonic()
        try:
            if not self._stop_vm(method):
                return False
            held = time.monotonic()
            self._sleep_until(end)
        finally:
            released = time.monotonic()
            # Sent even when the stop failed half-way (a QMP reply that never came): a resume
            # of a running VM does nothing, a VM left stopped would hang the run.
            self._resume_vm(method)
            if held is not None:
                self.pauses.append((held, released))
                self.pause_brackets.append((sent, held, released, time.monotonic()))
        return not self._ended.is_set()

    def _stop_vm(self, method: str) -> bool:
        if method == "signal":
            return self.signal(signal.SIGSTOP)
        if self._gone():
            return False
        try:
            self.qmp("stop")
            return True
        except QMPError:
            if self._gone():
                return False
            raise

    def _resume_vm(self, method: str) -> None:
        if method == "signal":
            self.signal(signal.SIGCONT)
            return
        if self._gone():
            return
        try:
            self.qmp("cont")
        except QMPError:
            if not self._gone():
                raise

    # -- host load: the VM runnable but without the CPU

    def run_host_steal(self, steal: HostSteal, start_after_line=RUNNING_LINE,
                       horizon_s: float = None) -> Optional[threading.Thread]:
        """Apply host load (a host_steal.CpuCap or Contention) from a background thread: from
        when a serial line matches start_after_line until horizon_s seconds after that line,
        or until QEMU exits or is killed if that comes first.  Returns the thread (kill() and
        wait() join it), or None if QEMU could not be started.

        horizon_s defaults, as for run_pauses, to the command line's duration= less
        UNPAUSED_TAIL_S.  Unlike a pause, the load stops neither the guest's clocks nor QEMU's,
        so the run takes no longer in wall time and the timeout stays as it was.

        Guest.host_steal is the load; Guest.host_steal_window is when it was in place, in
        time.monotonic() seconds.  The load is lifted whatever happens: at the horizon, when
        QEMU exits, by kill() (before QEMU is killed), on leaving the with block, at exit.  A
        failure of the thread, or of lifting the load, is kept in Guest.host_steal_error and
        raised by wait() or on leaving the block as HostStealError.  A host that cannot apply
        the load (steal.unavailable()) is refused here, in the caller: RuntimeError."""
        if not isinstance(steal, HostSteal):
            raise TypeError(f"steal must be a host_steal.HostSteal (CpuCap, Contention), got "
                            f"{type(steal).__name__}")
        self._refuse_before_start("run_host_steal")
        if self.host_steal is not None:
            raise RuntimeError("a Guest runs one host steal")
        horizon_s = self._horizon(horizon_s, "run_host_steal")
        rx = re.compile(start_after_line)
        why = steal.unavailable()
        if why:
            raise RuntimeError(f"{steal.describe()}: {why}")
        self.host_steal = steal
        return self._start_at_line("host-steal", rx, "host_steal_error", self._apply_host_steal,
                                   steal, horizon_s)

    def _apply_host_steal(self, origin: float, steal: HostSteal, horizon_s: float) -> None:
        try:
            steal.begin(self)
            self._sleep_until(origin + horizon_s)
        finally:
            steal.end()

    @property
    def host_steal_window(self) -> Optional[tuple]:
        """(t_applied, t_released) of run_host_steal's load in time.monotonic() seconds, a
        window inside the time it was in force: None if it has not been (or never was)
        applied, t_released None while it still is."""
        s = self.host_steal
        if s is None or s.applied is None:
            return None
        return (s.applied, s.released)

    def _end_host_steal(self) -> None:
        if self.host_steal is None:
            return
        try:
            self.host_steal.end()
        except Exception as e:
            if self.host_steal_error is None:
                self.host_steal_error = e

    # -- the hypervisor's view: the vCPU thread's CPU time

