"""Taking the CPU from a running VM the way a host's own load does, not by stopping it.

Guest.run_pauses stops QEMU outright (SIGSTOP, QMP stop): a stopped thread is not
runnable, so the host's scheduler statistics do not see those pauses as waiting.  The two ways
here leave the vCPU thread runnable and simply do not give it the CPU, which is what a real
hypervisor's steal time is; the kernel counts it as the thread's run-queue wait (run_delay,
the second field of /proc/PID/task/TID/schedstat), the host's ground truth:

  * CpuCap(quota_ms, period_ms): every one of QEMU's threads in a CPU cgroup allowed quota_ms
    of CPU time in every period_ms.  Once the group has used its quota it is throttled until
    the period ends, its threads still runnable: a host that sells the VM a share of a CPU.
  * Contention(competitors, nice, cpu): QEMU's vCPU thread pinned to one host CPU beside busy
    processes pinned there too, so the scheduler shares that CPU between them: a host that
    runs other work on the VM's CPU.

Each is applied by begin(guest) and lifted by end(); Guest.run_host_steal does both
from a helper thread at a serial line and a horizon, like run_pauses.  end() is idempotent and
callable from any thread, and an atexit hook ends whatever is still applied, so neither a
cgroup nor a busy process outlives the run; if this process is killed outright, the busy
processes die with it (PR_SET_PDEATHSIG) and its cgroup, empty once QEMU is gone too, is
removed by the next CpuCap to begin.

begin() needs two things of the guest, which Guest has: unreaped(), a context giving
QEMU's pid while it is alive and cannot be reaped (a reaped pid may be someone else's), and
vcpu_thread_id().  unavailable(kind) says why this host cannot do a kind, for pytest.skip.

Standard library only, Linux only.
"""

from __future__ import annotations

import atexit
import errno
import os
import re
import select
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterator, Optional

from .pauses import StealSource, _finite

MOUNTS = "/proc/self/mounts"
CGROUP_PREFIX = "tickguest-"
_CGROUP_NAME_RE = re.compile(r"^tickguest-(\d+)-(\d+)$")

# The kernel's limits on a CFS bandwidth period (1 ms to 1 s) and its smallest quota (1 ms).
CFS_PERIOD_MIN_US = 1_000
CFS_PERIOD_MAX_US = 1_000_000
CFS_QUOTA_MIN_US = 1_000

CGROUP_RMDIR_S = 2.0          # how long end() retries rmdir while the cgroup's tasks drain
COMPETITOR_READY_S = 5.0      # how long begin() waits for a busy process to start spinning
COMPETITOR_REAP_S = 5.0       # and end() for one to be reaped after SIGKILL


# --------------------------------------------------------------------------------------------
# Which cgroup hierarchy has the cpu controller


@dataclass(frozen=True)
class CpuController:
    """Where the CPU controller is mounted: version 1 (its own hierarchy, cpu.cfs_quota_us and
    cpu.cfs_period_us, threads listed in `tasks`) or 2 (the unified hierarchy, cpu.max,
    threads in cgroup.threads)."""
    version: int
    root: str

    @property
    def members_file(self) -> str:
        return "tasks" if self.version == 1 else "cgroup.threads"

    def set_limit(self, path: str, quota_us: int, period_us: int) -> None:
        if self.version == 1:
            # the period first: a quota is checked against the period already there
            _write(os.path.join(path, "cpu.cfs_period_us"), period_us)
            _write(os.path.join(path, "cpu.cfs_quota_us"), quota_us)
        else:
            _write(os.path.join(path, "cpu.max"), f"{quota_us} {period_us}")

    def limit(self, path: str) -> tuple:
        """(quota_us, period_us) as the cgroup holds them; quota -1 is no limit."""
        if self.version == 1:
            return (int(_read(os.path.join(path, "cpu.cfs_quota_us"))),
                    int(_read(os.path.join(path, "cpu.cfs_period_us"))))
        quota, period = _read(os.path.join(path, "cpu.max")).split()
        return (-1 if quota == "max" else int(quota), int(period))

    def members(self, path: str) -> set:
        """The TIDs in the cgroup (its own, not its children's)."""
        return {int(x) for x in _read(os.path.join(path, self.members_file)).split()}

    def cgroup_of(self, pid: int, tid: int) -> str:
        """The directory of the cgroup thread tid of process pid is in, in this hierarchy."""
        for line in _read(f"/proc/{pid}/task/{tid}/cgroup").splitlines():
            _, controllers, rel = line.split(":", 2)
            if (self.version == 1 and "cpu" in controllers.split(",")) or \
                    (self.version == 2 and controllers == ""):
                return os.path.join(self.root, rel.lstrip("/"))
        raise LookupError(f"thread {tid} of {pid} is in no cgroup v{self.version} hierarchy")


def _unescape_mount_path(field: str) -> str:
    # /proc/mounts writes space, tab, newline and backslash in octal (\040 ...)
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def _v2_controllers(root: str) -> Optional[str]:
    try:
        return _read(os.path.join(root, "cgroup.controllers"))
    except OSError:
        return None


def find_cpu_controller(mounts: str = MOUNTS) -> Optional[CpuController]:
    """The hierarchy to make a CPU cap in, from a mounts table (/proc/self/mounts' format).

    cgroup v1's cpu controller comes first when it is mounted: a controller is bound to one
    hierarchy at a time, so where v1 has it, v2's cgroup.controllers cannot offer it (that is
    the case on the machines this runs on, which mount v2 only for its pressure files)."""
    v2 = None
    try:
        with open(mounts) as f:
            table = f.read().splitlines()
    except OSError:
        return None
    for line in table:
        fields = line.split()
        if len(fields) < 4:
            continue
        where, fstype, options = _unescape_mount_path(fields[1]), fields[2], fields[3]
        if fstype == "cgroup" and "cpu" in options.split(","):
            return CpuController(1, where)
        if fstype == "cgroup2" and v2 is None:
            v2 = where
    if v2 is not None and "cpu" in (_v2_controllers(v2) or "").split():
        return CpuController(2, v2)
    return None


def unavailable(kind: str, mounts: str = MOUNTS, nice: int = 0) -> Optional[str]:
    """Why this host cannot apply kind ("cap" or "contention"), or None if it can.  For
    Contention, nice is the competitors' nice level: below 0 needs privilege.  One host CPU is
    enough for either."""
    if kind not in ("cap", "contention"):
        raise ValueError(f"kind must be 'cap' or 'contention', got {kind!r}")
    if not os.path.isdir("/proc/self/task"):
        return "no /proc with per-thread entries (not Linux?)"
    euid = os.geteuid()
    if kind == "cap":
        if euid != 0:
            return f"a CPU cap needs root to make a cgroup and move QEMU into it (euid {euid})"
        if find_cpu_controller(mounts) is None:
            return (f"no cpu controller: no cgroup v1 hierarchy with cpu in {mounts}, and "
                    f"no cgroup v2 hierarchy whose cgroup.controllers lists cpu")
        return None
    if not hasattr(os, "sched_setaffinity"):
        return "this Python has no os.sched_setaffinity"
    if nice < 0 and euid != 0:
        return f"competitors at nice {nice} need root (euid {euid}): only root may raise priority"
    return None


# --------------------------------------------------------------------------------------------
# What both kinds share


class ExitSet:
    """The things still live, shared between threads, each undone by undo(thing) at interpreter
    exit (a run stopped by ^C, an exception nobody caught), so no QEMU or host load outlives
    the tests.  Iterating gives a copy, taken under the lock: undoing a thing may remove it."""

    def __init__(self, undo: Callable[[object], None]):
        self._things: set = set()
        self._lock = threading.Lock()
        self._undo = undo
        atexit.register(self._undo_all)

    def add(self, thing) -> None:
        with self._lock:
            self._things.add(thing)

    def discard(self, thing) -> None:
        with self._lock:
            self._things.discard(thing)

    def __iter__(self) -> Iterator:
        with self._lock:
            return iter(list(self._things))

    def _undo_all(self) -> None:
        for thing in self:
            self._undo(thing)


def _end_quietly(s: "HostSteal") -> None:
    try:
        s.end()
    except Exception:
        pass        # at exit there is nobody to tell; the next CpuCap removes a stale cgroup


_active = ExitSet(_end_quietly)


class HostSteal(StealSource):
    """One application of host load to one guest: begin(guest) once, end() any number of times.

    applied and released are time.monotonic() stamps: applied once the load is fully in place,
    released just before it starts being lifted, so [applied, released] lies inside the time
    the guest was under it.  Both stay None if nothing was applied (QEMU gone before begin).
    lifted is an Event set once end() has done all it will do."""

    kind = ""

    def __init__(self):
        self.applied: Optional[float] = None
        self.released: Optional[float] = None
        self._guest = None
        self._state = "new"             # new -> begun -> ended, or new -> ended
        self.lifted = threading.Event()
        # Re-entrant: a begin() that fails calls end() to undo what it did.
        self._lock = threading.RLock()

    # steal_fraction and describe() are StealSource's, as a pause schedule's are: the share of
    # the window a vCPU that always wants the CPU spends waiting for it, and what the load is.

    def unavailable(self) -> Optional[str]:
        return unavailable(self.kind)

    def begin(self, guest) -> None:
        """Apply the load to guest's QEMU.  Does nothing if end() came first (the run was over
        before it could start) or QEMU has gone; raises if the host refuses, having undone
        whatever it had done."""
        with self._lock:
            if self._state == "ended" and self._guest is None:
                return
            if self._state != "new":
                raise RuntimeError(f"{type(self).__name__} is applied once; make another")
            self._state, self._guest = "begun", guest
            _active.add(self)
            try:
                # Every kind first asks whether this host can apply it at all (root, cgroups).
                why = self.unavailable()
                if why:
                    raise RuntimeError(why)
                if self._apply(guest):
                    self.applied = time.monotonic()
            except BaseException as e:
                try:
                    self.end()
                except Exception as cleanup:
                    e.add_note(f"and undoing it failed too: {cleanup!r}")
                raise

    def end(self) -> None:
        """Lift the load and clean up; safe to call any number of times, from any thread, before
        begin() too.  Raises only if the clean-up itself failed, after doing all it could."""
        with self._lock:
            if self._state == "ended":
                return
            begun, self._state = self._state == "begun", "ended"
            try:
                if begun:
                    if self.applied is not None:
                        self.released = time.monotonic()
                    self._release(self._guest)
            finally:
                _active.discard(self)
                self.lifted.set()

    def _apply(self, guest) -> bool:
        raise NotImplementedError

    def _release(self, guest) -> None:
        raise NotImplementedError


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()


def _write(path: str, value) -> None:
    # One write() per value: cgroup files take one value per write, and a buffered writer that
    # split it would move half a TID.
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, str(value).encode())
    finally:
        os.close(fd)


def _thread_ids(pid: int) -> set:
    try:
        return {int(t) for t in os.listdir(f"/proc/{pid}/task")}
    except OSError:
        return set()


def _gone(err: OSError) -> bool:
    """Whether an error only says the process or thread acted on has already exited."""
    return isinstance(err, ProcessLookupError) or err.errno == errno.ESRCH


def _unless_gone(act, *args) -> bool:
    """act(*args): True once done, False if it failed only because its process or thread had
    already exited (QEMU ended first: nothing to apply); any other error is raised."""
    try:
        act(*args)
    except OSError as e:
        if _gone(e):
            return False
        raise
    return True


# --------------------------------------------------------------------------------------------
# A CPU cap


class CpuCap(HostSteal):
    """All of QEMU's threads in a cgroup of their own, allowed quota_ms of CPU time in every
    period_ms between them.  A vCPU that always wants the CPU then runs at most quota_ms of a
    period and waits, runnable and throttled, for the rest: at least 1 - quota/period of any
    window, less a period at each edge.

    The cgroup is made at the root of the cpu hierarchy, named tickguest-<this pid>-<QEMU's
    pid>, and removed by end(), which first moves QEMU's threads back where they were (if QEMU
    still runs).  mounts is the mounts table to find the hierarchy in."""

    kind = "cap"

    def __init__(self, quota_ms: float, period_ms: float, mounts: str = MOUNTS):
        super().__init__()
        for name, v in (("quota_ms", quota_ms), ("period_ms", period_ms)):
            if not _finite(v):
                raise ValueError(f"CpuCap: {name} must be a finite number of ms, got {v!r}")
        self.quota_us, self.period_us = round(quota_ms * 1000), round(period_ms * 1000)
        if not CFS_PERIOD_MIN_US <= self.period_us <= CFS_PERIOD_MAX_US:
            raise ValueError(f"CpuCap: the kernel takes a period of 1 to 1000 ms, got "
                             f"{period_ms!r}")
        # More than the period would be a cap above one CPU, which one vCPU never meets.
        if not CFS_QUOTA_MIN_US <= self.quota_us <= self.period_us:
            raise ValueError(f"CpuCap: quota_ms must lie between 1 ms and the period "
                             f"({period_ms!r} ms), got {quota_ms!r}")
        self.mounts = mounts
        self.controller: Optional[CpuController] = None
        self.path: Optional[str] = None           # the cgroup's directory, once made
        self._origins: dict = {}                  # tid -> cgroup directory it came from
        self._pid: Optional[int] = None

    @property
    def quota_ms(self) -> float:
        return self.quota_us / 1000

    @property
    def period_ms(self) -> float:
        return self.period_us / 1000

    @property
    def steal_fraction(self) -> float:
        return 1 - self.quota_us / self.period_us

    def unavailable(self) -> Optional[str]:
        return unavailable("cap", self.mounts)

    def describe(self) -> str:
        ctl = self.controller or find_cpu_controller(self.mounts)
        how = f"cgroup v{ctl.version}" if ctl else "no cpu controller"
        return f"CPU cap {self.quota_ms:g} ms of every {self.period_ms:g} ms ({how})"

    def members(self) -> set:
        """The TIDs in the cap's cgroup now (empty once it is removed)."""
        if self.path is None or not os.path.isdir(self.path):
            return set()
        return self.controller.members(self.path)

    def _apply(self, guest) -> bool:
        ctl = self.controller = find_cpu_controller(self.mounts)
        remove_stale_cgroups(ctl)
        with guest.unreaped() as pid:
            if pid is None:
                return False
            self._pid = pid
            for tid in _thread_ids(pid):
                try:
                    self._origins[tid] = ctl.cgroup_of(pid, tid)
                except FileNotFoundError:
                    pass        # the thread ended after the listing
            path = os.path.join(ctl.root, f"{CGROUP_PREFIX}{os.getpid()}-{pid}")
            if ctl.version == 2:
                _enable_cpu_for_children(ctl.root)
            os.mkdir(path)
            self.path = path
            ctl.set_limit(path, self.quota_us, self.period_us)
            # The whole thread group in one write to cgroup.procs, not each TID to `tasks`:
            # the kernel moves them all at once while no thread can be created, so none can
            # be started between a listing and the moves and be left outside.  Threads made
            # later inherit their creator's cgroup, this one.
            if not _unless_gone(_write, os.path.join(path, "cgroup.procs"), pid):
                return False
            outside = {tid for tid in _thread_ids(pid) - ctl.members(path)
                       if os.path.exists(f"/proc/{pid}/task/{tid}")}    # not ended since
            if outside:
                raise RuntimeError(f"threads {sorted(outside)} of QEMU ({pid}) did not move "
                                   f"into {path}")
        return True

    def _release(self, guest) -> None:
        if self.path is None:
            return
        ctl = self.controller
        with guest.unreaped() as pid:
            if pid is not None and pid == self._pid:
                # Back where they came from, so the rest of the run (the unloaded tail) is
                # scheduled as before the cap: all at once to the main thread's cgroup, as
                # threads made under the cap would have been, then any thread that had been
                # elsewhere (v1 lets threads of one process differ) to its own.
                home = self._origins.get(pid, ctl.root)
                try:
                    _write(os.path.join(home, "cgroup.procs"), pid)
                    if ctl.version == 1:
                        live = _thread_ids(pid)
                        for tid, origin in self._origins.items():
                            if origin != home and tid in live:
                                _write(os.path.join(origin, "tasks"), tid)
                except OSError as e:
                    if not _gone(e):
                        raise
        _remove_cgroup(ctl, self.path)


def _enable_cpu_for_children(root: str) -> None:
    # v2 offers a controller to a cgroup's children only once the parent enables it.
    control = os.path.join(root, "cgroup.subtree_control")
    if "cpu" not in _read(control).split():
        _write(control, "+cpu")


def _remove_cgroup(ctl: CpuController, path: str) -> None:
    """rmdir the cgroup, retrying while its threads leave (an exiting thread lingers a moment);
    raises if it will not go in CGROUP_RMDIR_S."""
    deadline = time.monotonic() + CGROUP_RMDIR_S
    while True:
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError as e:
            if e.errno != errno.EBUSY or time.monotonic() >= deadline:
                left = sorted(ctl.members(path)) if os.path.isdir(path) else []
                raise OSError(e.errno, f"cannot remove {path} (threads still in it: "
                                       f"{left}): {e.strerror}") from e
        time.sleep(0.01)


def remove_stale_cgroups(ctl: CpuController) -> list:
    """Remove the cgroups an earlier run left behind: named tickguest-<pid>-<qemu pid>, with no
    task in them, made by a process that has gone (or by this one, but not in use by it).  A
    live process's empty cgroup is left alone: it may be about to move QEMU in.  Returns the
    directories removed."""
    ours = {s.path for s in _active if isinstance(s, CpuCap)}
    removed = []
    try:
        names = os.listdir(ctl.root)
    except OSError:
        return removed
    for name in names:
        m = _CGROUP_NAME_RE.match(name)
        path = os.path.join(ctl.root, name)
        if m is None or path in ours:
            continue
        owner = int(m.group(1))
        if owner != os.getpid() and os.path.exists(f"/proc/{owner}"):
            continue
        try:
            if ctl.members(path):
                continue
            os.rmdir(path)
            removed.append(path)
        except OSError:
            pass        # busy or gone meanwhile: not ours to insist on
    return removed


# --------------------------------------------------------------------------------------------
# Contention for the vCPU's CPU

# A competitor: dies with the thread that started it (PR_SET_PDEATHSIG, set by itself so no
# preexec_fn runs in a threaded parent), or at once if that parent is already gone; says it is
# ready only once it is about to spin.
_COMPETITOR = r"""
import ctypes, os, signal, sys
ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)    # PR_SET_PDEATHSIG
if os.getppid() != int(sys.argv[1]):
    os._exit(1)
os.write(1, b"r")
while True:
    pass
"""

# The scheduler's weight of a nice level: each step is about 1.25 times (sched_prio_to_weight).
NICE_0_WEIGHT = 1024


def nice_weight(nice: int) -> float:
    return NICE_0_WEIGHT / 1.25 ** nice


class Contention(HostSteal):
    """QEMU's vCPU thread pinned to one host CPU beside `competitors` busy processes pinned to
    it too, at nice level `nice`.  The scheduler shares that CPU by weight, so a vCPU that
    always wants it waits for about N w(nice) / (N w(nice) + w(0)) of the time: a half with
    one competitor at nice 0.

    cpu is the host CPU, by default the last one the vCPU thread may run on.  end() kills and
    reaps the competitors and gives the vCPU thread back the CPUs it had (if QEMU still runs),
    so the rest of the run is not held to one CPU.

    Each competitor gets a session of its own, and its nice level is given to its session's
    autogroup as well as to the process: with autogroup scheduling on (Debian's default),
    the scheduler first shares a CPU equally between sessions, and only then between the
    processes of a session by nice.  A competitor left in this process's session would get
    one share however many there were and whatever their nice level; in sessions of their own
    (QEMU has its own) the vCPU and the competitors are peers, weighed by their nice levels."""

    kind = "contention"

    def __init__(self, competitors: int = 1, nice: int = 0, cpu: Optional[int] = None):
        super().__init__()
        if not isinstance(competitors, int) or isinstance(competitors, bool) or competitors < 1:
            raise ValueError(f"Contention: competitors must be a whole number >= 1, got "
                             f"{competitors!r}")
        if not isinstance(nice, int) or isinstance(nice, bool) or not -20 <= nice <= 19:
            raise ValueError(f"Contention: nice must be a whole number from -20 to 19, got "
                             f"{nice!r}")
        if cpu is not None and (not isinstance(cpu, int) or isinstance(cpu, bool) or cpu < 0):
            raise ValueError(f"Contention: cpu must be a CPU number >= 0 or None, got {cpu!r}")
        self.competitors, self.nice, self.cpu = competitors, nice, cpu
        self.pinned_cpu: Optional[int] = None     # the CPU used, once begun
        self.vcpu_tid: Optional[int] = None
        self.procs: list = []                     # the competitors' Popen objects
        self._vcpu_affinity: Optional[set] = None
        self._pid: Optional[int] = None

    @property
    def steal_fraction(self) -> float:
        others = self.competitors * nice_weight(self.nice)
        return others / (others + nice_weight(0))

    def unavailable(self) -> Optional[str]:
        return unavailable("contention", nice=self.nice)

    def describe(self) -> str:
        cpu = self.pinned_cpu if self.pinned_cpu is not None else self.cpu
        where = f"CPU {cpu}" if cpu is not None else "its last allowed CPU"
        n = self.competitors
        return (f"{n} busy process{'es' if n > 1 else ''} at nice {self.nice} pinned with the "
                f"vCPU thread to {where} (about {self.steal_fraction * 100:.0f}% steal)")

    def _apply(self, guest) -> bool:
        with guest.unreaped() as pid:
            if pid is None:
                return False
            tid = guest.vcpu_thread_id()
            if tid is None:
                raise LookupError(f"QEMU ({pid}) has no vCPU thread to pin (QEMU names them "
                                  f"with -name debug-threads=on)")
            allowed = os.sched_getaffinity(tid)
        cpu = self.cpu if self.cpu is not None else max(allowed)
        if cpu not in allowed:
            raise ValueError(f"CPU {cpu} is not one the vCPU thread may run on "
                             f"({sorted(allowed)})")
        self._pid, self.vcpu_tid, self._vcpu_affinity, self.pinned_cpu = pid, tid, allowed, cpu
        # Started from the calling thread, which must outlive them: PR_SET_PDEATHSIG fires when
        # the thread that forked a process ends, not only when the whole parent does.
        for _ in range(self.competitors):
            self.procs.append(self._start_competitor(cpu))
        for p in self.procs:
            self._wait_ready(p)
        with guest.unreaped() as pid:
            if pid is None or pid != self._pid:
                return False
            return _unless_gone(os.sched_setaffinity, tid, {cpu})

    def _start_competitor(self, cpu: int) -> subprocess.Popen:
        p = subprocess.Popen([sys.executable, "-I", "-S", "-c", _COMPETITOR, str(os.getpid())],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             start_new_session=True)
        os.sched_setaffinity(p.pid, {cpu})
        if self.nice:
            os.setpriority(os.PRIO_PROCESS, p.pid, self.nice)
            try:
                _write(f"/proc/{p.pid}/autogroup", self.nice)
            except FileNotFoundError:
                pass        # a kernel without autogroups weighs processes by nice alone
        return p

    @staticmethod
    def _wait_ready(p: subprocess.Popen) -> None:
        ready, _, _ = select.select([p.stdout], [], [], COMPETITOR_READY_S)
        if not ready or os.read(p.stdout.fileno(), 1) != b"r":
            raise RuntimeError(f"busy process {p.pid} did not start spinning in "
                               f"{COMPETITOR_READY_S:g} s (exit status {p.poll()})")

    def _release(self, guest) -> None:
        problems = []
        for p in self.procs:
            try:
                p.kill()
            except ProcessLookupError:
                pass
        for p in self.procs:
            try:
                p.wait(timeout=COMPETITOR_REAP_S)
            except subprocess.TimeoutExpired:
                problems.append(f"busy process {p.pid} survived SIGKILL")
            if p.stdout is not None:
                p.stdout.close()
        if self._vcpu_affinity is not None:
            with guest.unreaped() as pid:
                # Only a TID still among QEMU's threads: a thread's id is free for reuse the
                # moment it exits, even while its process lives on.
                if pid is not None and pid == self._pid and self.vcpu_tid in _thread_ids(pid):
                    try:
                        os.sched_setaffinity(self.vcpu_tid, self._vcpu_affinity)
                    except OSError as e:
                        if not _gone(e):
                            raise
        if problems:
            raise RuntimeError("; ".join(problems))
