"""Guest's pause thread, QMP client and vCPU figures, without QEMU.

A small Python script stands in for QEMU (Guest's qemu= option; tests/unit_py/fake_qemu.py):
it prints the line a schedule starts at, then a line every 10 ms for as long as its command
line's duration= says, and serves QMP on the socket Guest asks for.  Like QEMU under TCG, its
clock goes on through a SIGSTOP and stands still through a QMP stop.  That is enough to hold
the thread to its promises: every planned pause applied and recorded, QEMU never left
stopped, the thread gone when QEMU is, and its failures raised by wait() instead of lost.
"""

import os
import time

import pytest

import tickguest as tg
from tickguest import FixedPauses, Guest, OnePause, PauseThreadError, QMPError

def guest(fake_qemu, cmdline="duration=0.4s", **kw):
    kw.setdefault("timeout", 10)
    return Guest(kernel="unused.elf", cmdline=cmdline, qemu=fake_qemu, **kw)


# -- the pause thread


def test_signal_pauses_are_applied_recorded_and_always_resumed(fake_qemu):
    with guest(fake_qemu, cmdline="duration=0.7s") as g:
        g.run_pauses(FixedPauses(0.2, 0.5), horizon_s=0.6)
        r = g.wait()
    assert r.status == 77, r.summary()      # it finished: nothing kept it stopped
    assert g.pause_error is None
    assert len(g.pause_plan) == 3 and len(g.pauses) == 3, (g.pause_plan, g.pauses)
    for (start, end), (offset, length) in zip(g.pauses, g.pause_plan):
        # stamped once the stop is sent, and held until the planned end, not a moment less
        assert start >= g.pause_origin + offset
        assert end >= g.pause_origin + offset + length
    # While stopped, the fake printed nothing (its ticks are 10 ms apart).  The margins are
    # for a line printed just before the stop and stamped late by a busy host.
    ticks = [t for t, _ in g.lines_matching(r"^# tick")]
    for start, end in g.pauses:
        assert not [t for t in ticks if start + 0.03 < t < end - 0.03], (start, end)


def test_qmp_pauses_stop_and_cont_in_turn_skipping_events(fake_qemu):
    with guest(fake_qemu, qmp=True) as g:
        g.run_pauses(FixedPauses(0.1, 0.5), horizon_s=0.3, method="qmp")
        r = g.wait()
    assert r.status == 77, r.summary()
    assert g.pause_error is None
    assert len(g.pauses) == 3
    states = [m.group(1) for _, m in g.lines_matching(r"^# vm (stopped|running)")]
    assert states == ["stopped", "running"] * 3
    assert [e["event"] for e in g._qmp.events] == ["STOP", "RESUME"] * 3
    assert not os.path.exists(os.path.dirname(g.qmp_path)), "the socket's directory is left"


def test_qmp_commands_and_errors(fake_qemu):
    with guest(fake_qemu, qmp=True) as g:
        assert g.qmp("query-status") == {"running": True}
        with pytest.raises(QMPError, match="CommandNotFound: The command nope has not been"):
            g.qmp("nope", arg=1)
        assert g.qmp("query-status") == {"running": True}   # the session goes on
    with pytest.raises(QMPError):
        g.qmp("query-status")                                # QEMU is gone


def test_qmp_needs_qmp_true(fake_qemu):
    with guest(fake_qemu) as g:
        with pytest.raises(RuntimeError, match="without qmp=True"):
            g.qmp("stop")
        with pytest.raises(ValueError, match="method='qmp' needs a Guest made with qmp=True"):
            g.run_pauses(OnePause(0, 1), method="qmp")


def test_a_failure_after_the_stop_still_resumes_and_reaches_wait(fake_qemu):
    g = guest(fake_qemu)
    stop = g._stop_vm

    def stop_then_fail(method):
        stop(method)
        raise OSError("the host changed its mind")

    g._stop_vm = stop_then_fail
    with pytest.raises(PauseThreadError, match="the host changed its mind") as info:
        with g:
            g.run_pauses(OnePause(0.05, 5.0), horizon_s=6)
            g.wait()
    assert isinstance(info.value.__cause__, OSError)
    # resumed at once by the finally: the run ended on its own, not by the timeout
    assert info.value.result.status == 77, info.value.result.summary()
    assert g.pauses == []       # the pause never got under way, so none is recorded


def test_a_failure_is_raised_on_leaving_the_block_if_nobody_waited(fake_qemu):
    g = guest(fake_qemu)

    def fail(method):
        raise RuntimeError("no stop today")

    g._stop_vm = fail
    with pytest.raises(PauseThreadError, match="no stop today"):
        with g:
            thread = g.run_pauses(OnePause(0.0, 0.1), horizon_s=1)
            thread.join(5)
            assert g.pause_error is not None


@pytest.mark.parametrize("method", ["signal", "qmp"])
def test_kill_ends_a_pause_in_progress(fake_qemu, method):
    with guest(fake_qemu, qmp=True) as g:
        thread = g.run_pauses(OnePause(0.0, 600.0), horizon_s=601, method=method)
        assert g.wait_for_line(r"^# running", 5)
        time.sleep(0.3)
        killed = time.monotonic()
    assert not thread.is_alive()
    assert g.proc.returncode is not None
    assert g.pause_error is None, g.pause_error
    assert len(g.pauses) == 1, g.pauses
    assert killed <= g.pauses[0][1] < killed + 5, (g.pauses, killed)
    # stopped from the start line on: a tick or two at most before the stop took hold
    assert len(g.lines_matching(r"^# tick")) <= 5, g.lines


def test_no_start_line_no_pauses(fake_qemu):
    with guest(fake_qemu, cmdline="silent duration=0.2s") as g:
        thread = g.run_pauses(OnePause(0.0, 0.1), horizon_s=1)
        r = g.wait()
    assert r.tap.version is None, r.summary()
    assert not thread.is_alive()
    assert g.pause_origin is None and g.pauses == [] and g.pause_error is None


def test_the_timeout_grows_by_the_planned_pauses(fake_qemu):
    with guest(fake_qemu, timeout=10) as g:
        g.run_pauses(FixedPauses(1.0, 0.25), horizon_s=4.0)
        assert g.timeout == pytest.approx(11.0)
        g.kill()


def test_run_pauses_refuses_what_it_cannot_do(fake_qemu):
    g = guest(fake_qemu)
    with pytest.raises(RuntimeError, match="start the guest"):
        g.run_pauses(OnePause(0, 1))
    with g:
        with pytest.raises(ValueError, match="method must be 'signal' or 'qmp'"):
            g.run_pauses(OnePause(0, 1), method="sigstop")
        with pytest.raises(TypeError, match="must be a PauseSchedule"):
            g.run_pauses([(0, 1)])
        with pytest.raises(ValueError, match="horizon"):
            g.run_pauses(OnePause(0, 1), horizon_s=-1)
        g.run_pauses(OnePause(0, 0.05), horizon_s=0.1)
        with pytest.raises(RuntimeError, match="one pause schedule"):
            g.run_pauses(OnePause(0, 0.05), horizon_s=0.1)


def test_default_horizon_leaves_the_last_second_unpaused(fake_qemu):
    with guest(fake_qemu, cmdline="duration=0.3s silent") as g:
        g.run_pauses(FixedPauses(0.1, 0.5))
        assert g.pause_plan == []              # 0.3 s less a second: nothing
    g = guest(fake_qemu, cmdline="duration=3s silent")
    with g:
        g.run_pauses(FixedPauses(0.5, 0.5))
        g.kill()
    assert g.pause_plan[-1][0] + g.pause_plan[-1][1] <= 2.0 + 1e-9


# -- QMP socket's directory


def test_qmp_socket_lives_in_a_directory_removed_by_kill():
    g = Guest(kernel="unused.elf", qmp=True)
    i = g.argv.index("-qmp")
    assert g.argv[i + 1] == f"unix:{g.qmp_path},server=on,wait=off"
    d = os.path.dirname(g.qmp_path)
    assert os.path.isdir(d)
    g.kill()                                   # never started: still cleans up
    assert not os.path.exists(d)


# -- the vCPU thread's figures


def test_vcpu_thread_name():
    assert tg.vcpu_thread_name({"qemu-system-x86": (1, 0), "CPU 0/TCG": (5, 1)}) \
        == "CPU 0/TCG"
    assert tg.vcpu_thread_name({"CPU 1/KVM": (1, 0), "CPU 0/KVM": (1, 0)}) == "CPU 0/KVM"
    assert tg.vcpu_thread_name({"CPU 0/HVF": (1, 0), "worker": (1, 0)}) is None


def samples_guest():
    """(t, on-CPU ns, wait ns): on the CPU at 100 % from 10.00 to 10.04, not at all from 10.04
    to 10.10 (stopped), and half the time from 10.10 to 10.20."""
    g = Guest(kernel="unused.elf")
    ms = 1_000_000
    g.vcpu_samples = [(10.00, 0, 0), (10.02, 20 * ms, 0), (10.04, 40 * ms, 0),
                      (10.06, 40 * ms, 0), (10.08, 40 * ms, 0), (10.10, 40 * ms, 0),
                      (10.20, 90 * ms, 50 * ms)]
    return g


def test_vcpu_off_cpu_over_a_bracketed_window():
    g = samples_guest()
    assert g.vcpu_off_cpu_s(10.04, 10.10) == pytest.approx(0.06)    # exactly on samples
    # between samples: widened to 10.04 .. 10.20, 160 ms of which 50 on the CPU; truly off
    # from 10.05 to 10.10 and half of 10.10 to 10.11
    assert g.vcpu_off_cpu_s(10.05, 10.11) == pytest.approx(0.11)
    assert g.vcpu_off_cpu_s(10.05, 10.11) >= 0.05 + 0.005


def test_vcpu_off_cpu_past_the_samples_is_still_an_upper_bound():
    g = samples_guest()
    # after the last sample: on-CPU time counted only to it, wall time to the end
    assert g.vcpu_off_cpu_s(10.10, 10.30) == pytest.approx(0.20 - 0.05)
    # before the first: wall time from the start, on-CPU from the first sample on
    assert g.vcpu_off_cpu_s(9.90, 10.04) == pytest.approx(0.14 - 0.04)


def test_bracket_margin_is_how_far_the_samples_reach_outside():
    g = samples_guest()
    assert g.vcpu_bracket_margin_s(10.04, 10.10) == pytest.approx(0.0)      # on samples
    assert g.vcpu_bracket_margin_s(10.05, 10.11) == pytest.approx(0.01 + 0.09)
    # past the last sample: from it to the window's start, nothing after the end
    assert g.vcpu_bracket_margin_s(10.25, 10.30) == pytest.approx(0.05)


def test_host_tick_is_one_of_linux_s_rates():
    tick = tg.host_tick_s()
    assert any(tick == pytest.approx(1 / hz) for hz in (100, 250, 300, 1000)), tick


def test_vcpu_off_cpu_needs_samples_and_a_window():
    g = Guest(kernel="unused.elf")
    with pytest.raises(LookupError, match="sample_vcpu=True"):
        g.vcpu_off_cpu_s(0, 1)
    with pytest.raises(ValueError, match="ends"):
        samples_guest().vcpu_off_cpu_s(2, 1)


def threads_guest():
    """(t, thread_times()) of QEMU's threads: the vCPU waits 3 ms for the CPU between 10.0 and
    10.1 and 2 ms more by 10.2; the main loop 1 ms, then 4 ms more; an I/O worker starts
    between the first and second samples, having waited 5 ms."""
    g = Guest(kernel="unused.elf")
    ms = 1_000_000
    g.thread_samples = [
        (10.0, {"CPU 0/TCG": (0, 10 * ms), "qemu-system-x86": (0, 20 * ms)}),
        (10.1, {"CPU 0/TCG": (0, 13 * ms), "qemu-system-x86": (0, 21 * ms),
                "worker": (0, 5 * ms)}),
        (10.2, {"CPU 0/TCG": (0, 15 * ms), "qemu-system-x86": (0, 25 * ms),
                "worker": (0, 5 * ms)}),
    ]
    return g


def test_runqueue_wait_sums_every_thread_over_the_bracketing_samples():
    g = threads_guest()
    assert g.runqueue_wait_s() == pytest.approx((5 + 5 + 5) / 1000)          # whole run
    assert g.runqueue_wait_s(10.1, 10.2) == pytest.approx((2 + 4) / 1000)     # on samples
    # inside one interval: widened to the samples around it, so never less than the truth
    assert g.runqueue_wait_s(10.12, 10.15) == pytest.approx((2 + 4) / 1000)
    # a thread that was not there at the first sample counts from zero
    assert g.runqueue_wait_s(10.0, 10.1) == pytest.approx((3 + 1 + 5) / 1000)


def test_runqueue_wait_needs_samples_and_a_window():
    with pytest.raises(LookupError, match="sample_vcpu=True"):
        Guest(kernel="unused.elf").runqueue_wait_s()
    with pytest.raises(ValueError, match="ends"):
        threads_guest().runqueue_wait_s(2, 1)


def slices_guest():
    """(t, on-CPU ns, wait ns, timeslices) of the vCPU: waiting 30 ms of every 50 from 10.1
    on, once a period."""
    g = Guest(kernel="unused.elf")
    ms = 1_000_000
    g.vcpu_samples = [(10.00, 0, 0, 0), (10.05, 50 * ms, 0, 1), (10.10, 100 * ms, 0, 2),
                      (10.15, 120 * ms, 30 * ms, 3), (10.20, 140 * ms, 60 * ms, 4),
                      (10.25, 160 * ms, 90 * ms, 5)]
    return g


def test_vcpu_runqueue_wait_over_the_bracketing_samples():
    g = slices_guest()
    assert g.vcpu_runqueue_wait_s() == pytest.approx(0.09)                 # whole run
    assert g.vcpu_runqueue_wait_s(10.10, 10.20) == pytest.approx(0.06)     # on samples
    # inside one interval: widened to the samples around it, so never less than the truth
    assert g.vcpu_runqueue_wait_s(10.16, 10.19) == pytest.approx(0.03)
    assert g.vcpu_runqueue_wait_s(10.12, 10.21) == pytest.approx(0.09)
    # past the samples: the nearest ones
    assert g.vcpu_runqueue_wait_s(9.0, 10.05) == 0
    assert g.vcpu_runqueue_wait_s(10.2, 11.0) == pytest.approx(0.03)


def test_vcpu_timeslices_over_the_bracketing_samples():
    g = slices_guest()
    assert g.vcpu_timeslices() == 5
    assert g.vcpu_timeslices(10.10, 10.20) == 2
    assert g.vcpu_timeslices(10.12, 10.21) == 3


def test_kernel_ns_is_stat_s_stime_past_a_command_name_with_spaces_and_parentheses():
    hz = os.sysconf("SC_CLK_TCK")
    line = "4242 (CPU 0/TCG (x)) S 1 2 3 0 -1 4194368 900 0 1 0 250 37 0 0 20 0 5 0 99"
    assert tg.vcpu._kernel_ns(line) == 37 * 1_000_000_000 // hz


def test_vcpu_kernel_time_over_the_bracketing_samples():
    g = Guest(kernel="unused.elf")
    ms = 1_000_000
    g.vcpu_samples = [(10.0, 0, 0, 0, 0), (10.1, 90 * ms, 0, 1, 10 * ms),
                      (10.2, 180 * ms, 0, 2, 10 * ms), (10.3, 270 * ms, 0, 3, 40 * ms)]
    assert g.vcpu_kernel_s(10.0, 10.3) == pytest.approx(0.04)
    assert g.vcpu_kernel_s(10.15, 10.25) == pytest.approx(0.03)    # widened to 10.1 .. 10.3
    assert g.vcpu_kernel_s(10.1, 10.2) == 0


def test_vcpu_figures_need_samples_and_a_window():
    for figure in (Guest.vcpu_runqueue_wait_s, Guest.vcpu_timeslices):
        with pytest.raises(LookupError, match="sample_vcpu=True"):
            figure(Guest(kernel="unused.elf"))
        with pytest.raises(ValueError, match="ends"):
            figure(slices_guest(), 2, 1)


def test_samples_carry_the_timeslices_of_a_real_thread(fake_qemu):
    with guest(fake_qemu, cmdline="vcpu=spin duration=0.5s", sample_vcpu=True) as g:
        assert g.wait_for_line(r"^# running", 5)
        times = g.thread_times()
        assert len(times["CPU 0/TCG"]) == 4 and times["CPU 0/TCG"][2] >= 1
        g.wait()
    assert all(len(s) == 5 for s in g.vcpu_samples)
    assert g.vcpu_timeslices() >= 1
    assert g.runqueue_wait_s() >= g.vcpu_runqueue_wait_s() >= 0


# -- serial lines


def test_lines_matching_gives_the_time_and_the_match():
    g = Guest(kernel="unused.elf")
    g._lines = [(1.0, "# running 2 tasks for 6000 ms"), (1.5, "ok 1 - x"),
                (2.0, "# accounting: 5 ms stolen seen")]
    got = g.lines_matching(r"(\d+) ms stolen")
    assert [(t, m.group(1)) for t, m in got] == [(2.0, "5")]
    assert g.lines_matching("nothing") == []


def test_host_steal_bound_brackets_and_rounds_up(monkeypatch):
    """The host's own steal over a window: the bracketing samples' growth plus a tick per
    CPU (each counter is rounded down to whole ticks), and nothing where the host has none."""
    g = Guest(kernel="unused.elf")
    monkeypatch.setattr(tg.vcpu, "host_steal_ticks", lambda: (0, 2))
    monkeypatch.setattr(tg.vcpu.os, "sysconf", lambda name: 100)
    g.host_steal_samples = [(10.0, 300), (10.5, 300), (11.0, 304), (11.5, 310)]
    assert g.host_steal_s(10.5, 11.0) == pytest.approx((4 + 2) / 100)
    # between samples: widened to the bracket 10.0 .. 11.5
    assert g.host_steal_s(10.2, 11.2) == pytest.approx((10 + 2) / 100)
    g.host_steal_samples = [(10.0, 0), (11.0, 0)]
    assert g.host_steal_s(10.0, 11.0) == 0.0
    g.host_steal_samples = []
    assert g.host_steal_s(10.0, 11.0) == 0.0


def test_host_frozen_is_the_sampler_s_oversleep_its_own_wait_does_not_explain():
    g = Guest(kernel="unused.elf")
    p, ms = tg.VCPU_SAMPLE_PERIOD_S, 1_000_000
    # (woke, slept, own run ns, own wait ns): round 2 woke 3 ms late, 1 ms of it waiting for
    # a CPU; round 3 woke 40 ms late with no wait at all (the host stood still); round 4 on
    # time; round 5 0.5 ms late, as a sound host wakes a sleeper: not counted
    g.sampler_samples = [(0.0, 0.001, 0, 0),
                         (0.001 + p + 0.003, 0.015, 1 * ms, 1 * ms),
                         (0.015 + p + 0.040, 0.066, 2 * ms, 1 * ms),
                         (0.066 + p, 0.077, 3 * ms, 1 * ms),
                         (0.077 + p + 0.0005, 0.09, 4 * ms, 1 * ms)]
    assert g.host_frozen_s(0.0, 1.0) == pytest.approx(0.002 + 0.040)
    assert g.host_frozen_s(0.03, 1.0) == pytest.approx(0.040)      # rounds overlapping only
    assert g.host_frozen_s(0.07, 1.0) == pytest.approx(0.0)
    assert Guest(kernel="unused.elf").host_frozen_s(0.0, 1.0) == 0.0
