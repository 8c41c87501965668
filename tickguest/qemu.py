"""Boot tickguest under QEMU, capture its serial report and read it as TAP.

The report format is docs/report.md and the statuses are docs/exit-status.md; this module is the
host side of both.  It is shared by the pytest suites and scripts/run-guest, so it keeps to the
standard library plus PyYAML (Debian's python3-yaml).

Design notes, for the work that builds on this:
  * Guest keeps its Popen handle (`Guest.proc`) and QEMU runs in its own process group, so the
    whole group can be signalled: killed at the end, and later paused with SIGSTOP/SIGCONT.
  * Serial output is read by a thread as it arrives and every line is stamped with
    time.monotonic(), so host-side timing can be compared with what the guest reports.
  * Nothing is left running: the group is killed in __exit__, by an atexit hook for every guest
    still alive, and (where setpriv exists) by the kernel itself if this process dies.
  * Pauses are planned by schedules (FixedPauses, RandomPauses, OnePause: plain data) and
    applied by Guest.run_pauses from a thread, with SIGSTOP or QMP stop; what was applied is
    kept in host monotonic time beside the serial lines, and the vCPU thread's CPU time is
    sampled (sample_vcpu=True), so the guest's figures can be held to what the host did.
  * Host load that leaves the VM runnable but without the CPU (a CPU cap, contention for the
    vCPU's CPU: tickguest/host_steal.py) is applied by Guest.run_host_steal the same way, from a
    thread between a serial line and a horizon; the vCPU thread's run-queue wait
    (vcpu_runqueue_wait_s) is what the guest should see of it as stolen time.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Optional

from .deschedule import Descheduling, HostStealError, PauseThreadError
from .host_steal import ExitSet, HostSteal
from .machine import (DEBUG_EXIT_DEVICE, OVMF_PATHS, cmdline_duration_s, kvm_available, ovmf_path,
                      qemu_binary, timeout_for)
from .pauses import PauseSchedule
from .qmp import QMPClient, QMPError
from .status import decode_status, status_name
from .tap import Tap, clean_line, parse_tap
from .vcpu import VcpuWatch


_kvm_runs: dict = {}


def kvm_runs_guest(kernel) -> tuple[bool, str]:
    """Whether KVM here runs the guest to a verdict: kvm_available(), then one short boot.  On
    the nested kvm-pvm hosts of this project the guest takes #GP on the CR0 write that turns
    paging on, with EFER 0 and CR4.PAE clear: a valid write (docs/platforms.md), so the reason
    names the host.  Asked once per kernel."""
    if kernel in _kvm_runs:
        return _kvm_runs[kernel]
    ok, why = kvm_available()
    if ok:
        r = run(kernel=kernel, cmdline="suite=accounting duration=1s", accel="kvm", timeout=60)
        ok = r.status in (0, 1)
        why = "KVM runs the guest" if ok else \
            f"KVM here does not run the guest: {r.tap.bail_out or status_name(r.status)}"
    _kvm_runs[kernel] = (ok, why)
    return ok, why


# Excuses summary() has given since the pytest plugin last cleared the list (at each test's
# setup): what lets it tell a failed assertion about a run the host cannot judge.
host_excuses: list = []


@dataclass
class Result:
    argv: list
    lines: list            # (monotonic time, text) from the TAP header on
    all_lines: list        # (monotonic time, text) of everything, firmware noise included
    raw: str               # serial output as received, decoded but not cleaned
    qemu_rc: Optional[int]
    status: int
    timed_out: bool
    stderr: str
    tap: Tap
    started: float         # monotonic time QEMU was started
    duration: float        # seconds until QEMU exited or was killed
    # How far the host's wall clock (CLOCK_REALTIME) moved against CLOCK_MONOTONIC while QEMU
    # ran: a step (NTP, the host's own VM restored or forked) that QEMU's RTC follows under
    # -rtc clock=host, the default, and that the guest cannot tell from a faulty RTC.
    wall_clock_step_s: float = 0.0

    # More than this and the summary says so: well below an RTC update second, well above
    # what an NTP slew (at most 500 ppm) moves the clock in a run of a few minutes.
    WALL_CLOCK_STEP_NOTED_S = 0.1

    @property
    def status_name(self) -> str:
        return status_name(self.status)

    @property
    def rtc_on_host_clock(self) -> bool:
        """Whether QEMU's RTC ran on the host's wall clock: its default, unless an -rtc option
        put it on the virtual clock (clock=vm) or the host's monotonic one (clock=rt)."""
        for flag, value in zip(self.argv, self.argv[1:]):
            if flag == "-rtc" and re.search(r"(^|,)clock=(vm|rt)\b", value):
                return False
        return True

    def host_clock_excuse(self) -> Optional[str]:
        """Why the host, not the guest, answers for this run's failures, or None.

        QEMU's RTC follows the host's CLOCK_REALTIME (-rtc clock=host): a step of that clock
        while QEMU ran moves the guest's time of day and bunches or holds back its periodic
        interrupts, and the guest cannot tell that from a faulty RTC.  Only the host can.  So a
        run whose wall clock stepped by more than WALL_CLOCK_STEP_NOTED_S, with the RTC on it,
        and whose every failed check is an RTC claim, cannot be judged.  A failure of any other
        device is not the step's doing and is never excused, nor is a run that ended in any
        other way than its checks failing (status 1): a bail-out, a panic or a hang."""
        if abs(self.wall_clock_step_s) <= self.WALL_CLOCK_STEP_NOTED_S or \
                not self.rtc_on_host_clock or self.status != 1:
            return None
        failed = self.tap.failed()
        if not failed or not all(t.description.startswith("rtc ") for t in failed):
            return None
        return (f"not judged: the host's wall clock stepped {self.wall_clock_step_s:+.3f} s "
                "against its monotonic clock while QEMU ran, and QEMU's RTC follows it (-rtc "
                f"clock=host); the {len(failed)} failed check(s) are all the RTC's: " +
                "; ".join(t.line.strip() for t in failed[:3]))

    @property
    def text(self) -> str:
        return "\n".join(t for _, t in self.lines)

    def summary(self, tail: int = 40) -> str:
        """What an assertion message needs to tell why a run went wrong.  A run the host
        cannot judge (host_clock_excuse) is noted in host_excuses as well: the assertion
        whose message this is then names this run, and the pytest plugin reports that test as
        skipped with the reason, not failed."""
        excuse = self.host_clock_excuse()
        if excuse:
            host_excuses.append(excuse)
        out = [f"command: {' '.join(self.argv)}",
               f"status {self.status} ({self.status_name}), qemu rc {self.qemu_rc}, "
               f"{self.duration:.1f} s{', timed out' if self.timed_out else ''}"]
        if abs(self.wall_clock_step_s) > self.WALL_CLOCK_STEP_NOTED_S:
            out.append(f"the host's wall clock stepped {self.wall_clock_step_s:+.3f} s against "
                       "its monotonic clock during the run: QEMU's RTC follows it (-rtc "
                       "clock=host), so RTC figures of this run reflect the host, not the device")
        if self.tap.errors:
            out.append("TAP errors: " + "; ".join(self.tap.errors[:10]))
        # the serial tail below may not reach back to them
        failed = self.tap.failed()
        if failed:
            out.append(f"failed checks ({len(failed)}): " +
                       "; ".join(t.line.strip() for t in failed[:10]))
            # each one's figures, which the tail may not reach either
            for t in failed[:10]:
                if t.yaml:
                    out.append(f"  {t.number}: " + ", ".join(f"{k}: {v}" for k, v in t.yaml.items()))
        if self.stderr.strip():
            out.append("stderr:\n" + "\n".join(self.stderr.rstrip().splitlines()[-tail:]))
        shown = self.all_lines[-tail:]
        out.append(f"serial (last {len(shown)} of {len(self.all_lines)} lines):")
        out.extend("  " + t for _, t in shown)
        return "\n".join(out)



def wall_minus_monotonic() -> float:
    """CLOCK_REALTIME - CLOCK_MONOTONIC, read between two monotonic reads, tightest of five
    tries: a loaded host can preempt the reader between its two clocks, and that wait would
    otherwise read as a step of the wall clock."""
    best = None
    for _ in range(5):
        before = time.monotonic()
        wall = time.time()
        after = time.monotonic()
        if best is None or after - before < best[0]:
            best = (after - before, wall - (before + after) / 2)
    return best[1]


QMP_CONNECT_S = 10.0         # how long Guest.qmp waits for QEMU's socket to appear

_live = ExitSet(lambda g: g.kill())


def _chunks(pipe) -> Iterator[bytes]:
    """What QEMU writes to pipe, as it comes, until it closes it; a failed read counts as the
    end too (QEMU is gone).  Both of Guest's reader threads drain their pipe with it."""
    fd = pipe.fileno()
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return
        if not chunk:
            return
        yield chunk


class Guest(Descheduling, VcpuWatch):
    """One QEMU run of tickguest.  Use it as a context manager: leaving the block, however that
    happens, kills QEMU's process group.

        with Guest(kernel="build/tickguest.elf", cmdline="hz=100", timeout=60) as g:
            result = g.wait()

    kernel= boots the ELF by QEMU's -kernel (Multiboot v1, SeaBIOS), iso= an ISO through GRUB
    (Multiboot2); firmware="uefi" boots the ISO under OVMF instead of SeaBIOS.

    on_line(t, text) is called from the reader thread for every cleaned serial line, noise
    included, as it arrives (scripts/run-guest streams with it).  If setpriv is installed QEMU
    also gets SIGKILL when the thread that started it dies, so start it from a thread that
    lives as long as the guest (the main thread, normally).

    Acting on the run, and watching it from the host:
      * qmp=True gives QEMU a QMP socket; Guest.qmp(cmd, **args) runs a command on it.
      * run_pauses(schedule) pauses QEMU on a schedule from a background thread, by SIGSTOP or
        by QMP stop, and records what it applied in Guest.pauses.
      * run_host_steal(steal) applies a CpuCap or a Contention (tickguest/host_steal.py) from a
        background thread, between a serial line and a horizon, and records when in
        Guest.host_steal_window.
      * sample_vcpu=True samples the CPU time of QEMU's threads every 10 ms (Guest.vcpu_samples
        for the vCPU, Guest.thread_samples for all); vcpu_off_cpu_s() turns the samples into
        the time the vCPU could not run, runqueue_wait_s() into the time the threads waited,
        vcpu_runqueue_wait_s() into the time the vCPU waited, vcpu_timeslices() into how
        many times it was given the CPU, vcpu_kernel_s() into its time in the host kernel.
    All of it uses time.monotonic(), the clock the serial lines are stamped with.
    """

    def __init__(self, kernel=None, iso=None, cmdline: str = "", machine: str = "pc",
                 accel: str = "tcg", extra_args: Iterable[str] = (), timeout: float = None,
                 memory: str = "64M", on_line: Callable[[float, str], None] = None,
                 qemu: str = None, debug_exit: bool = True, qmp: bool = False,
                 sample_vcpu: bool = False, firmware: str = "bios"):
        if (kernel is None) == (iso is None):
            raise ValueError("give exactly one of kernel= and iso=")
        if iso is not None and cmdline:
            raise ValueError("an ISO boots GRUB's menu entry; its command line is in grub.cfg "
                             "(tickguest/isos.py makes one with the command line you want)")
        if firmware not in ("bios", "uefi"):
            raise ValueError(f"firmware is 'bios' or 'uefi', not {firmware!r}")
        # QEMU's -kernel loads Multiboot (v1) through an option ROM of its BIOS; OVMF has none
        if firmware == "uefi" and iso is None:
            raise ValueError("a UEFI boot needs an ISO: OVMF cannot start a -kernel image")
        self.kernel, self.iso, self.cmdline, self.firmware = kernel, iso, cmdline, firmware
        self.timeout = timeout if timeout is not None else timeout_for(
            cmdline_duration_s(cmdline), iso=iso is not None, uefi=firmware == "uefi")
        self.on_line = on_line
        argv = [qemu or qemu_binary(),
                "-machine", f"{machine},accel={accel}", "-m", str(memory),
                "-display", "none", "-vga", "none", "-monitor", "none",
                "-serial", "stdio", "-no-reboot",
                # named threads ("CPU 0/TCG"), so thread_times() can tell the vCPU apart
                "-name", "tickguest,debug-threads=on"]
        # Without the device the guest must leave another way (ACPI soft-off, or halting).
        if debug_exit:
            argv += ["-device", DEBUG_EXIT_DEVICE]
        if firmware == "uefi":
            if ovmf_path() is None:
                raise FileNotFoundError("no OVMF firmware in " + ", ".join(OVMF_PATHS) +
                                        " (Debian's ovmf; scripts/install-deps installs it), "
                                        "nor in TICKGUEST_OVMF")
            argv += ["-bios", ovmf_path()]
        if kernel is not None:
            argv += ["-kernel", str(kernel), "-append", cmdline]
        else:
            argv += ["-cdrom", str(iso), "-boot", "d"]
        # The QMP socket goes in a directory of its own, so no other run can take its name;
        # the directory is removed by kill(), or when the Guest is collected if it never ran.
        self.qmp_path: Optional[str] = None
        self._qmp_dir_cleanup = None
        if qmp:
            qmp_dir = tempfile.mkdtemp(prefix="tickguest-qmp-")
            self._qmp_dir_cleanup = weakref.finalize(self, shutil.rmtree, qmp_dir, True)
            self.qmp_path = os.path.join(qmp_dir, "qmp.sock")
            argv += ["-qmp", f"unix:{self.qmp_path},server=on,wait=off"]
        # QEMUOPTS of `make conformance` reach every boot, after the test's own arguments
        self.argv = argv + [str(a) for a in extra_args] + \
            shlex.split(os.environ.get("TICKGUEST_QEMU_ARGS", ""))
        self.sample_vcpu = sample_vcpu

        self.proc: Optional[subprocess.Popen] = None
        self.started: Optional[float] = None
        self._wall_offset = 0.0     # CLOCK_REALTIME - CLOCK_MONOTONIC at start()
        self.start_error: Optional[str] = None
        self.callback_error: Optional[BaseException] = None
        self._lines: list = []            # (t, cleaned text)
        self._raw = bytearray()
        self._stderr = bytearray()
        self._cond = threading.Condition()
        self._threads: list = []          # the pipe readers
        self._result: Optional[Result] = None
        # Set once QEMU's output has ended or it was killed: wakes the helper threads below.
        self._ended = threading.Event()
        # Held while QEMU is signalled or reaped, so no signal can go to a reaped pid that
        # another process has been given since: with helper threads signalling, it matters.
        self._reap_lock = threading.RLock()
        self._helpers: list = []          # the sampler and the pause thread
        self._qmp: Optional[QMPClient] = None
        self._qmp_lock = threading.Lock()
        # What run_pauses asked for and what it did.
        self.pause_schedule: Optional[PauseSchedule] = None
        self.pause_plan: Optional[list] = None     # (offset_s, length_s), as the schedule gave
        self.pause_origin: Optional[float] = None  # stamp of the line the schedule started at
        self.pauses: list = []                     # (start, end) of every pause applied
        # (stop sent, stop done, resume sent, resume done) of each: the VM stopped somewhere
        # in the first two and ran again somewhere in the last two, however long QEMU or a
        # busy host took to act on them
        self.pause_brackets: list = []
        self.pause_error: Optional[BaseException] = None
        self._pause_error_reported = False
        # What run_host_steal was given, and its thread's failure if it had one.
        self.host_steal: Optional[HostSteal] = None
        self.host_steal_error: Optional[BaseException] = None
        # With sample_vcpu=True: (host time, on-CPU ns, runqueue-wait ns, timeslices) of the
        # vCPU thread, and (host time, thread_times()) of all of QEMU's threads, from the
        # same reads.
        self.vcpu_samples: list = []
        self.thread_samples: list = []
        # (host time, the host's own steal in USER_HZ ticks over all its CPUs), same cadence
        self.host_steal_samples: list = []
        # (woke, slept, own on-CPU ns, own run-queue ns) of each of the sampler's rounds: when
        # it woke, when it went back to sleep, and its own schedstat as it woke (host_frozen_s)
        self.sampler_samples: list = []

    # -- life cycle

    def start(self) -> "Guest":
        if self.proc is not None or self.start_error is not None:
            raise RuntimeError("a Guest runs once")
        self._wall_offset = wall_minus_monotonic()
        self.started = time.monotonic()
        # Resolved here, not left to setpriv, whose "not found" would exit 127: odd, a "status".
        exe = shutil.which(self.argv[0])
        if exe is None:
            self.start_error = f"cannot run {self.argv[0]}: not found"
            return self
        wrapper = []
        setpriv = shutil.which("setpriv")
        if setpriv:
            wrapper = [setpriv, "--pdeathsig", "KILL", "--"]
        try:
            self.proc = subprocess.Popen(wrapper + [exe] + self.argv[1:],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, start_new_session=True)
        except OSError as e:
            # Not an exception: "QEMU failed to start" is status 125 like any other no-verdict.
            self.start_error = f"cannot run {self.argv[0]}: {e.strerror}"
            return self
        _live.add(self)
        for target, pipe in ((self._read_serial, self.proc.stdout),
                             (self._read_stderr, self.proc.stderr)):
            th = threading.Thread(target=target, args=(pipe,), daemon=True,
                                  name=f"guest-{self.proc.pid}-{target.__name__}")
            th.start()
            self._threads.append(th)
        if self.sample_vcpu:
            self._start_helper(self._sample_vcpu, "vcpu-sampler")
        return self

    def _start_helper(self, target, what: str, args=()) -> threading.Thread:
        th = threading.Thread(target=target, args=args, daemon=True,
                              name=f"guest-{self.proc.pid}-{what}")
        th.start()
        self._helpers.append(th)
        return th

    def __enter__(self) -> "Guest":
        return self.start()

    def __exit__(self, exc_type, exc, tb) -> None:
        self.kill()
        # A failed helper thread must not go unnoticed when nobody called wait() to hear it;
        # an exception already on its way out is the more useful one and goes on.
        if exc_type is None and not self._pause_error_reported:
            self._raise_helper_error()

    def signal(self, sig: int) -> bool:
        """Send sig to QEMU's process group while QEMU is alive (not yet reaped: a reaped pid
        could belong to someone else).  Returns whether it was sent."""
        with self._reap_lock:
            if self.proc is None or self.proc.returncode is not None:
                return False
            try:
                os.killpg(self.proc.pid, sig)
                return True
            except ProcessLookupError:
                return False

    @contextlib.contextmanager
    def unreaped(self):
        """A block in which QEMU cannot be reaped, so its pid and its threads' ids cannot pass
        to another process: yields QEMU's pid if it is running, None if it never ran or has
        exited.  QEMU may still exit inside the block (acting on it then fails with ESRCH);
        keep the block short, as kill() and the sampler wait for it."""
        with self._reap_lock:
            running = self.proc is not None and self.proc.returncode is None \
                and not self._exited()
            yield self.proc.pid if running else None

    # -- QMP

    def qmp(self, cmd: str, **args):
        """Run a QMP command (Guest(qmp=True) only) and return its "return" value; QMPError
        if QEMU refuses it or has gone.  Connects on first use: QEMU makes the socket while it
        starts, so the first call waits for it, at most QMP_CONNECT_S."""
        if self.qmp_path is None:
            raise RuntimeError("this Guest was made without qmp=True")
        if self.proc is None:
            raise RuntimeError("QMP needs a running guest: start() it first")
        with self._qmp_lock:
            if self._qmp is None:
                self._qmp = self._connect_qmp()
        return self._qmp.execute(cmd, **args)

    def _connect_qmp(self) -> QMPClient:
        deadline = time.monotonic() + QMP_CONNECT_S
        while True:
            if self._gone():
                raise QMPError("QEMU is not running")
            try:
                return QMPClient(self.qmp_path)
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() >= deadline:
                    raise QMPError(f"no QMP socket at {self.qmp_path} after "
                                   f"{QMP_CONNECT_S:g} s") from None
                self._ended.wait(0.02)

    def _gone(self) -> bool:
        """Whether QEMU has ended (or never ran): nothing left to pause or resume."""
        return self.proc is None or self._ended.is_set() or self._exited()

    # -- pausing the run

    def kill(self) -> None:
        """Kill the group and reap QEMU; safe to call any number of times, from anywhere.
        SIGKILL ends a stopped process as well, so a pause in progress cannot keep QEMU.  Host
        load is lifted first, while QEMU still runs, so its threads go back where they were
        and the cgroup or the busy processes go with it."""
        self._end_host_steal()
        if self.proc is not None:
            with self._reap_lock:
                self.signal(signal.SIGKILL)
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
        self._ended.set()
        if self._qmp is not None:
            self._qmp.shutdown()        # wakes a helper waiting for a reply
        self._join()
        if self._qmp is not None:
            self._qmp.close()
        if self._qmp_dir_cleanup is not None:
            self._qmp_dir_cleanup()
        _live.discard(self)

    def _join(self) -> None:
        for th in self._threads + self._helpers:
            if th is not threading.current_thread():
                th.join(timeout=5)

    def _exited(self) -> bool:
        """Whether QEMU has exited, without reaping it: its zombie keeps the process group's id
        reserved, so the group can still be killed safely afterwards."""
        try:
            info = os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        return info is not None

    def wait(self, timeout: float = None) -> Result:
        """Wait for QEMU to exit, at most timeout (default: the Guest's) seconds from its start;
        past that kill it and report status 124.  If the pause thread failed, raises
        PauseThreadError (the Result is its .result) instead of returning; if the host-steal
        thread did, HostStealError."""
        if self._result is not None:
            self._raise_helper_error()
            return self._result
        if self.proc is None and self.start_error is None:
            self.start()
        timed_out = False
        if self.proc is not None:
            deadline = self.started + (self.timeout if timeout is None else timeout)
            while not self._exited():
                if time.monotonic() >= deadline:
                    timed_out = True
                    break
                time.sleep(0.02)
            ended = time.monotonic()
            self.kill()          # stragglers in the group, the reap, the reader threads
        else:
            ended = self.started
        self._result = self._make_result(timed_out, ended)
        self._raise_helper_error()
        return self._result

    def _raise_helper_error(self) -> None:
        for error, kind, what in ((self.pause_error, PauseThreadError, "the pause thread"),
                                  (self.host_steal_error, HostStealError,
                                   "the host-steal thread")):
            if error is not None:
                self._pause_error_reported = True
                err = kind(f"{what} failed: {error!r}")
                err.result = self._result
                raise err from error

    # -- reading

    def _read_serial(self, pipe) -> None:
        pending = b""
        for chunk in _chunks(pipe):
            now = time.monotonic()
            self._raw += chunk
            pending += chunk
            *done, pending = pending.split(b"\n")
            for b in done:
                self._add_line(now, clean_line(b))
        if pending:                     # a last line with no newline
            self._add_line(time.monotonic(), clean_line(pending))
        # QEMU closes its output only by exiting: the helpers can stop.
        self._ended.set()
        with self._cond:
            self._cond.notify_all()

    def _add_line(self, t: float, text: str) -> None:
        with self._cond:
            self._lines.append((t, text))
            self._cond.notify_all()
        if self.on_line is not None and self.callback_error is None:
            try:
                self.on_line(t, text)
            except BaseException as e:  # the pipe must go on being drained
                self.callback_error = e

    def _read_stderr(self, pipe) -> None:
        for chunk in _chunks(pipe):
            self._stderr += chunk

    @property
    def lines(self) -> list:
        """The serial lines so far, (monotonic time, text), noise included."""
        with self._cond:
            return list(self._lines)

    def wait_for_line(self, pattern, timeout: float) -> Optional[tuple]:
        """Block until a serial line matches the regex pattern (searched); returns the
        (time, text) or None on timeout or when the output ended.  For acting on the guest at a
        given point of its run, e.g. pausing it."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = 0
        with self._cond:
            while True:
                for item in self._lines[seen:]:
                    if rx.search(item[1]):
                        return item
                seen = len(self._lines)
                left = deadline - time.monotonic()
                reader_done = self._threads and not self._threads[0].is_alive()
                if left <= 0 or reader_done or self.proc is None:
                    return None
                self._cond.wait(min(left, 0.5))

    def lines_matching(self, pattern) -> list:
        """[(time, match)] for every serial line so far that the regex pattern matches
        (searched), in order: the host's arrival time of each line beside what it says."""
        rx = re.compile(pattern)
        return [(t, m) for t, text in self.lines if (m := rx.search(text)) is not None]

    def _make_result(self, timed_out: bool, ended: float) -> Result:
        all_lines = self.lines
        tap = parse_tap([t for _, t in all_lines])
        rc = None if self.proc is None else self.proc.returncode
        stderr = self._stderr.decode("utf-8", errors="replace")
        if self.start_error:
            stderr = self.start_error + "\n" + stderr
        result = Result(
            argv=list(self.argv),
            lines=all_lines[tap.offset:] if tap.offset is not None else [],
            all_lines=all_lines,
            raw=bytes(self._raw).decode("utf-8", errors="replace"),
            qemu_rc=rc,
            status=decode_status(rc, timed_out, verdict_seen=tap.exit_line is not None),
            timed_out=timed_out,
            stderr=stderr,
            tap=tap,
            started=self.started,
            duration=ended - self.started,
            wall_clock_step_s=(wall_minus_monotonic() - self._wall_offset
                               if self.started is not None else 0.0),
        )
        keep_log(result)
        return result


_kept = itertools.count(1)


def keep_log(result: Result) -> None:
    """With TICKGUEST_LOG_DIR set, every run's command, status and whole serial output go to a
    file there, numbered in order: a failure in a long series can then be read in full, not
    only the tail its summary shows (scripts/loaded-make-test sets it)."""
    where = os.environ.get("TICKGUEST_LOG_DIR")
    if not where:
        return
    os.makedirs(where, exist_ok=True)
    name = f"{next(_kept):04d}-{os.getpid()}-status{result.status}.log"
    with open(os.path.join(where, name), "w") as f:
        f.write(" ".join(result.argv) + "\n\n" + result.raw)


def run(**kw) -> Result:
    """Boot, wait for the verdict (or the timeout), and make sure QEMU is gone."""
    with Guest(**kw) as g:
        return g.wait()



