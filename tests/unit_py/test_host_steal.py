"""Host load (tickguest/host_steal.py, Guest.run_host_steal) on a real process, without QEMU.

The stand-in for QEMU (fake_qemu.py) with vcpu=spin has a thread named "CPU 0/TCG" that keeps
a CPU busy, so a CPU cap and contention are applied to a real process with a real vCPU-named
thread, and the kernel's own figures (/proc/PID/task/TID/schedstat, the cgroup's files, the
threads' affinity) say whether they took hold and were lifted.

Bounds, and where they come from (W is the window Guest.host_steal_window, P the cap's period,
q its quota):
  * A CPU cap: the busy thread is always runnable, so it is either on the CPU or waiting, and
    its group may run at most q in each period; W meets at most W/P + 2 periods (partial ones
    at the edges), so it waits at least W - q (W/P + 2) = (1 - q/P) W - 2q.  Every period in
    which the quota ran out throttles it and gives it the CPU afresh afterwards, so it is
    given the CPU at least once per whole period: W/P - 2 timeslices.
  * Contention: the scheduler shares the pinned CPU by weight, so the busy vCPU waits about
    steal_fraction of W (a half beside one competitor at nice 0).  That is an average the
    scheduler aims at, not a promise, so the test asks for half of it, less CONTENTION_EDGE_S
    at each end: still far from the near-zero wait of a thread with a CPU to itself, which is
    what the test tells apart.  Other load on the machine only adds to either wait.
"""

import contextlib
import os
import signal
import subprocess
import time

import pytest

from tickguest import host_steal
from tickguest import Contention, CpuCap, Guest, HostStealError, PauseThreadError
from tickguest.host_steal import CpuController, find_cpu_controller, unavailable

CONTENTION_EDGE_S = 0.05     # a scheduler's latency target (6-24 ms) with room to spare
POLL_S = 5.0                 # the longest any test waits for something to happen

CAP_SKIP = unavailable("cap")
CONTENTION_SKIP = unavailable("contention")
needs_cap = pytest.mark.skipif(CAP_SKIP is not None, reason=f"CPU cap: {CAP_SKIP}")
needs_contention = pytest.mark.skipif(CONTENTION_SKIP is not None,
                                      reason=f"contention: {CONTENTION_SKIP}")


def guest(fake_qemu, cmdline="vcpu=spin duration=1.6s", **kw):
    kw.setdefault("timeout", 10)
    return Guest(kernel="unused.elf", cmdline=cmdline, qemu=fake_qemu, sample_vcpu=True, **kw)


def wait_until(cond, what, timeout=POLL_S):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        time.sleep(0.01)


def threads(pid) -> dict:
    """{tid: name} of a process's threads."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                out[int(tid)] = f.read().strip()
        except FileNotFoundError:
            pass
    return out


def cpu_cgroups(pid) -> dict:
    """{tid: the thread's line for the cpu hierarchy in its /proc cgroup file}."""
    out = {}
    for tid in threads(pid):
        with open(f"/proc/{pid}/task/{tid}/cgroup") as f:
            lines = f.read().splitlines()
        v1 = [l for l in lines if "cpu" in l.split(":")[1].split(",")]
        out[tid] = (v1 or [l for l in lines if l.startswith("0::")])[0]
    return out


def cap_shape_on_disk(cap) -> tuple:
    """(quota_us, period_us) read from the cgroup's own files."""
    def read(name):
        with open(os.path.join(cap.path, name)) as f:
            return f.read().split()
    if cap.controller.version == 1:
        return int(read("cpu.cfs_quota_us")[0]), int(read("cpu.cfs_period_us")[0])
    quota, period = read("cpu.max")
    return int(quota), int(period)


def tasks_on_disk(cap) -> set:
    with open(os.path.join(cap.path, cap.controller.members_file)) as f:
        return {int(x) for x in f.read().split()}


def competitors_gone(steal):
    for p in steal.procs:
        assert p.returncode is not None, f"busy process {p.pid} not reaped"
        assert not os.path.exists(f"/proc/{p.pid}"), f"busy process {p.pid} still there"


@pytest.fixture(autouse=True)
def nothing_left_behind():
    """Whatever a test did, no cgroup of this process and no host load is left: fail if there
    is, after removing it, so one test's leftovers do not spoil the next."""
    yield
    left = []
    for s in list(host_steal._active):
        left.append(s.describe())
        s.end()
    ctl = find_cpu_controller()
    if ctl is not None:
        for name in os.listdir(ctl.root):
            if name.startswith(f"{host_steal.CGROUP_PREFIX}{os.getpid()}-"):
                left.append(name)
                os.rmdir(os.path.join(ctl.root, name))
    assert not left, f"left behind: {left}"


def spy_on_kill(g, probe) -> dict:
    """Keep, as ["at_kill"], what probe(QEMU's pid) returns the moment kill() first sends
    SIGKILL to a QEMU that has not exited yet."""
    seen = {}
    send = g.signal

    def signal_(sig):
        if sig == signal.SIGKILL and "at_kill" not in seen and not g._exited():
            seen["at_kill"] = probe(g.proc.pid)
        return send(sig)

    g.signal = signal_
    return seen


def window_held(g, r, line, horizon_s) -> tuple:
    """After a run with load applied from its running line (line) until horizon_s: the run
    ended as the fake does and the load without error, and was in force from after the line
    until the horizon.  How soon after the line it took hold is how fast a loaded host ran the
    helper (making a cgroup, spawning, pinning), and is not bounded.  Returns (t0, t1)."""
    assert r.status == 77, r.summary()
    assert g.host_steal_error is None
    t0, t1 = g.host_steal_window
    assert line[0] <= t0 < t1 and t1 >= line[0] + horizon_s, (line[0], g.host_steal_window)
    return t0, t1


# -- which host can do what


def mounts_file(tmp_path, *lines, name="mounts"):
    p = tmp_path / name
    p.write_text("".join(l + "\n" for l in lines))
    return str(p)


def test_find_cpu_controller_prefers_v1_and_asks_v2_what_it_offers(tmp_path):
    v2 = tmp_path / "unified"
    v2.mkdir()
    (v2 / "cgroup.controllers").write_text("cpuset io memory hugetlb pids\n")
    v2_line = f"cgroup2 {v2} cgroup2 rw,relatime 0 0"
    v1_line = r"cgroup /sys/fs/cgroup/cpu\040here cgroup rw,relatime,cpu,cpuacct 0 0"
    cpuacct = "cgroup /sys/fs/cgroup/cpuacct cgroup rw,relatime,cpuacct 0 0"
    assert find_cpu_controller(mounts_file(tmp_path, v2_line, cpuacct)) is None
    assert find_cpu_controller(mounts_file(tmp_path, v2_line, cpuacct, v1_line)) == \
        CpuController(1, "/sys/fs/cgroup/cpu here")
    (v2 / "cgroup.controllers").write_text("cpuset cpu io memory\n")
    assert find_cpu_controller(mounts_file(tmp_path, v2_line)) == CpuController(2, str(v2))
    assert find_cpu_controller(str(tmp_path / "no-such-file")) is None


def test_unavailable_says_why(tmp_path, monkeypatch):
    none = mounts_file(tmp_path, "proc /proc proc rw 0 0", name="none")
    v1 = mounts_file(tmp_path, "cgroup /c cgroup rw,cpu 0 0", name="v1")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert unavailable("cap", mounts=v1) is None
    assert "no cpu controller" in unavailable("cap", mounts=none)
    assert unavailable("contention") is None
    assert unavailable("contention", nice=-5) is None
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert "needs root" in unavailable("cap", mounts=v1)
    assert unavailable("contention") is None                  # pinning your own child is fine
    assert unavailable("contention", nice=5) is None
    assert "nice -5 need root" in unavailable("contention", nice=-5)
    assert "need root" in Contention(nice=-5).unavailable()
    assert "needs root" in CpuCap(70, 100, mounts=v1).unavailable()
    with pytest.raises(ValueError, match="'cap' or 'contention'"):
        unavailable("sigstop")


def test_run_host_steal_refuses_what_the_host_cannot_do(fake_qemu, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with guest(fake_qemu, cmdline="silent duration=0.2s") as g:
        with pytest.raises(RuntimeError, match="CPU cap 20 ms of every 50 ms .*needs root"):
            g.run_host_steal(CpuCap(20, 50))
        assert g.host_steal is None


# -- describing and checking


def test_cap_describes_itself_and_checks_its_shape():
    assert CpuCap(70, 100).describe().startswith("CPU cap 70 ms of every 100 ms (")
    assert CpuCap(700, 1000).steal_fraction == pytest.approx(0.3)
    assert CpuCap(20, 50).steal_fraction == pytest.approx(0.6)
    if find_cpu_controller() is not None:
        assert CpuCap(20, 50).describe().endswith(f"(cgroup v{find_cpu_controller().version})")
    for bad in ((0.5, 100), (120, 100), (70, 0.5), (700, 1001), (float("nan"), 100),
                ("70", 100)):
        with pytest.raises(ValueError, match="CpuCap"):
            CpuCap(*bad)


def test_contention_describes_itself_and_checks_its_arguments():
    assert Contention().describe() == ("1 busy process at nice 0 pinned with the vCPU thread "
                                       "to its last allowed CPU (about 50% steal)")
    assert "2 busy processes at nice 5" in Contention(2, nice=5, cpu=0).describe()
    assert "to CPU 0" in Contention(cpu=0).describe()
    # nice 5 weighs 1024 / 1.25**5 = 335.5: two of those against the vCPU's 1024
    assert Contention(2, nice=5).steal_fraction == pytest.approx(671 / 1695, abs=1e-3)
    assert Contention(1, nice=-5).steal_fraction > 0.75
    for bad in ({"competitors": 0}, {"competitors": 1.5}, {"nice": 20}, {"nice": 0.5},
                {"cpu": -1}, {"cpu": True}):
        with pytest.raises(ValueError, match="Contention"):
            Contention(**bad)


@needs_contention
def test_run_host_steal_refuses_what_it_cannot_do(fake_qemu):
    g = guest(fake_qemu, cmdline="silent duration=0.3s")
    with pytest.raises(RuntimeError, match="start the guest"):
        g.run_host_steal(Contention())
    with g:
        with pytest.raises(TypeError, match="host_steal.HostSteal"):
            g.run_host_steal("contention")
        with pytest.raises(ValueError, match="horizon"):
            g.run_host_steal(Contention(), horizon_s=-1)
        g.run_host_steal(Contention(), horizon_s=0.1)
        with pytest.raises(RuntimeError, match="one host steal"):
            g.run_host_steal(Contention(), horizon_s=0.1)


# -- the CPU cap on a real process


@needs_cap
def test_cap_holds_every_thread_to_its_shape_and_is_lifted_at_the_horizon(fake_qemu):
    cap = CpuCap(20, 50)
    with guest(fake_qemu) as g:
        line = g.wait_for_line(r"^# running", POLL_S)
        assert line
        before = cpu_cgroups(g.proc.pid)
        g.run_host_steal(cap, horizon_s=1.2)
        wait_until(lambda: g.host_steal_window, "the cap applied")
        assert os.path.basename(cap.path) == f"tickguest-{os.getpid()}-{g.proc.pid}"
        assert cap_shape_on_disk(cap) == (20_000, 50_000)
        assert set(threads(g.proc.pid)) <= tasks_on_disk(cap), (threads(g.proc.pid), cap.path)
        # a thread QEMU makes under the cap is under it too: it inherits its creator's cgroup
        os.kill(g.proc.pid, signal.SIGUSR1)
        wait_until(lambda: "late worker" in threads(g.proc.pid).values(), "the late thread")
        late = next(t for t, n in threads(g.proc.pid).items() if n == "late worker")
        assert late in tasks_on_disk(cap)

        assert cap.lifted.wait(3), "the cap not lifted at the horizon"
        assert not os.path.exists(cap.path)
        assert g.proc.poll() is None, "the fake ended too soon to see the threads go back"
        after = cpu_cgroups(g.proc.pid)
        assert {t: after[t] for t in before} == before
        assert after[late] == before[g.proc.pid]      # where its creator came from
        r = g.wait()
    t0, t1 = window_held(g, r, line, horizon_s=1.2)
    w, p, q = t1 - t0, cap.period_ms / 1000, cap.quota_ms / 1000
    # Held to q of every p, the thread runs at most q/p of the window and a period's quota
    # more at each edge; the rest of the window it waits, save what this machine's own
    # hypervisor took from it: the kernel counts a thread's run time, and charges its quota,
    # on a clock that leaves out stolen time, so stolen time is neither run nor wait
    wait, stolen = g.vcpu_runqueue_wait_s(t0, t1), g.host_steal_s(t0, t1)
    assert wait >= (1 - q / p) * w - 2 * q - stolen, (wait, w, stolen)
    assert g.vcpu_timeslices(t0, t1) >= w / p - 2, (g.vcpu_timeslices(t0, t1), w)


def end_run(g, ending: str) -> None:
    """End a run with the load applied, one of the ways a run can end."""
    if ending == "kill":
        g.kill()
    elif ending == "exception":
        raise RuntimeError("the test's own")
    else:
        assert g.wait().status == 77


def run_and_end(g, steal, ending: str, applied: str, before):
    """Run g, apply steal at its running line with a horizon far past the run, and end the run
    the way ending says; check the load's window closed without error.  Returns what
    before(g) gave just before the load was applied."""
    with pytest.raises(RuntimeError, match="the test's own") if ending == "exception" \
            else contextlib.nullcontext():
        with g:
            assert g.wait_for_line(r"^# running", POLL_S)
            kept = before(g)
            g.run_host_steal(steal, horizon_s=30)
            wait_until(lambda: g.host_steal_window, applied)
            end_run(g, ending)
    assert g.host_steal_error is None, g.host_steal_error
    assert g.host_steal_window[1] is not None
    return kept


@needs_cap
@pytest.mark.parametrize("ending", ["kill", "exception", "qemu exits"])
def test_cap_is_lifted_however_the_run_ends(fake_qemu, ending):
    cap = CpuCap(700, 1000)
    g = guest(fake_qemu, cmdline="vcpu=spin duration=0.8s")
    seen = spy_on_kill(g, lambda pid: (cpu_cgroups(pid), os.path.exists(cap.path)))
    before = run_and_end(g, cap, ending, "the cap applied", lambda g: cpu_cgroups(g.proc.pid))
    assert not os.path.exists(cap.path)
    if ending != "qemu exits":
        # lifted before QEMU was killed: its threads were home and the cgroup gone by then
        cgroups, cgroup_there = seen["at_kill"]
        assert not cgroup_there
        assert {t: cgroups[t] for t in before if t in cgroups} == before


@needs_cap
def test_a_stale_cgroup_is_removed_and_a_live_ones_kept(fake_qemu):
    ctl = find_cpu_controller()
    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = os.path.join(ctl.root, f"tickguest-{gone.pid}-1")
    someone_elses = os.path.join(ctl.root, "tickguest-1-2")     # pid 1 lives: not stale
    os.mkdir(stale)
    os.mkdir(someone_elses)
    try:
        with guest(fake_qemu, cmdline="vcpu=spin duration=0.5s") as g:
            g.run_host_steal(CpuCap(20, 50), horizon_s=0.2)
            g.wait()
        assert not os.path.exists(stale)
        assert os.path.exists(someone_elses)
    finally:
        for d in (stale, someone_elses):
            if os.path.exists(d):
                os.rmdir(d)


@needs_cap
def test_a_cap_that_fails_half_way_is_undone_and_reported(fake_qemu, monkeypatch):
    def refuse(self, path, quota_us, period_us):
        raise OSError(22, "the kernel says no")

    monkeypatch.setattr(CpuController, "set_limit", refuse)
    cap = CpuCap(20, 50)
    with pytest.raises(HostStealError, match="the kernel says no") as info:
        with guest(fake_qemu, cmdline="vcpu=spin duration=0.5s") as g:
            g.run_host_steal(cap, horizon_s=0.3)
            g.wait()
    assert isinstance(info.value, PauseThreadError)      # one except catches either helper
    assert info.value.result.status == 77
    assert cap.path is not None and not os.path.exists(cap.path)
    assert g.host_steal_window is None


# -- contention on a real process


@needs_contention
@pytest.mark.parametrize("competitors,nice,cpu", [(1, 0, None), (2, 5, 0)])
def test_contention_pins_the_vcpu_beside_busy_processes_until_the_horizon(
        fake_qemu, competitors, nice, cpu):
    steal = Contention(competitors, nice=nice, cpu=cpu)
    with guest(fake_qemu) as g:
        line = g.wait_for_line(r"^# running", POLL_S)
        assert line
        vcpu = g.vcpu_thread_id()
        assert threads(g.proc.pid)[vcpu] == "CPU 0/TCG"
        allowed = os.sched_getaffinity(vcpu)
        g.run_host_steal(steal, horizon_s=1.2)
        wait_until(lambda: g.host_steal_window, "contention applied")
        chosen = max(allowed) if cpu is None else cpu
        assert steal.pinned_cpu == chosen and steal.vcpu_tid == vcpu
        assert os.sched_getaffinity(vcpu) == {chosen}
        assert len(steal.procs) == competitors
        for p in steal.procs:
            assert p.poll() is None and os.sched_getaffinity(p.pid) == {chosen}
            assert os.getpriority(os.PRIO_PROCESS, p.pid) == nice
            assert os.getsid(p.pid) == p.pid           # a session, so an autogroup, of its own
            if os.path.exists(f"/proc/{p.pid}/autogroup"):
                with open(f"/proc/{p.pid}/autogroup") as f:
                    assert f.read().split()[-1] == str(nice)

        assert steal.lifted.wait(3), "contention not lifted at the horizon"
        competitors_gone(steal)
        assert g.proc.poll() is None, "the fake ended too soon to see its affinity restored"
        assert os.sched_getaffinity(vcpu) == allowed
        r = g.wait()
    t0, t1 = window_held(g, r, line, horizon_s=1.2)
    w = t1 - t0
    wait = g.vcpu_runqueue_wait_s(t0, t1)
    assert wait >= steal.steal_fraction / 2 * (w - 2 * CONTENTION_EDGE_S), (wait, w)


@needs_contention
@pytest.mark.parametrize("ending", ["kill", "exception", "qemu exits"])
def test_contention_ends_however_the_run_ends(fake_qemu, ending):
    steal = Contention(2)
    g = guest(fake_qemu, cmdline="vcpu=spin duration=0.8s")
    seen = spy_on_kill(g, lambda pid: (os.sched_getaffinity(steal.vcpu_tid),
                                       [p.returncode for p in steal.procs]))
    allowed = run_and_end(g, steal, ending, "contention applied",
                          lambda g: os.sched_getaffinity(g.vcpu_thread_id()))
    competitors_gone(steal)
    if ending != "qemu exits":
        # lifted before QEMU was killed: the vCPU had its CPUs back and the busy ones were dead
        affinity, codes = seen["at_kill"]
        assert affinity == allowed
        assert None not in codes


@needs_contention
def test_busy_processes_that_fail_to_start_are_killed_and_reported(fake_qemu, monkeypatch):
    def never_ready(p):
        raise RuntimeError(f"busy process {p.pid} never said it was ready")

    monkeypatch.setattr(Contention, "_wait_ready", staticmethod(never_ready))
    steal = Contention(2)
    with pytest.raises(HostStealError, match="never said it was ready"):
        with guest(fake_qemu, cmdline="vcpu=spin duration=0.5s") as g:
            g.run_host_steal(steal, horizon_s=0.3)
            g.wait()
    assert len(steal.procs) == 2
    competitors_gone(steal)
    assert g.host_steal_window is None


@needs_contention
def test_a_cpu_the_vcpu_may_not_use_is_an_error_raised_by_wait(fake_qemu):
    with guest(fake_qemu, cmdline="vcpu=spin duration=0.4s") as g:
        g.run_host_steal(Contention(cpu=4095), horizon_s=0.2)
        with pytest.raises(HostStealError, match="CPU 4095 is not one") as info:
            g.wait()
    assert info.value.result.status == 77
    assert g.host_steal.procs == []


@needs_contention
def test_no_vcpu_thread_is_an_error(fake_qemu):
    with guest(fake_qemu, cmdline="duration=0.4s") as g:
        g.run_host_steal(Contention(), horizon_s=0.2)
        with pytest.raises(HostStealError, match="no vCPU thread"):
            g.wait()


# -- life cycle


@needs_contention
def test_no_start_line_no_load(fake_qemu):
    steal = Contention()
    with guest(fake_qemu, cmdline="silent vcpu=spin duration=0.3s") as g:
        thread = g.run_host_steal(steal, horizon_s=1)
        r = g.wait()
    assert r.tap.version is None
    assert not thread.is_alive()
    assert g.host_steal_window is None and steal.procs == [] and g.host_steal_error is None


@needs_contention
def test_end_may_come_first_and_any_number_of_times(fake_qemu):
    steal = Contention()
    steal.end()
    with guest(fake_qemu, cmdline="vcpu=spin duration=0.3s") as g:
        assert g.wait_for_line(r"^# running", POLL_S)
        steal.begin(g)                       # the run was over for it: nothing is applied
        assert steal.applied is None and steal.procs == []
    used = Contention()
    with guest(fake_qemu, cmdline="vcpu=spin duration=0.5s") as g:
        g.run_host_steal(used, horizon_s=0.1)
        g.wait()
    used.end()
    used.end()
    with pytest.raises(RuntimeError, match="applied once"):
        used.begin(g)

