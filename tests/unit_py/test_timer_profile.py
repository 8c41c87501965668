"""tickguest/timer_profile.py's pure parts: the time of day notes, what the time of day followed,
what a tick source did across a stop, and the device table's figures, each from a report
written out here."""

import pytest

from tickguest import timer_profile as tp

from .test_report_html_pure import STARTED
from .test_report_lines import result


def tod_run(start, end):
    return result([(0.0, "TAP version 13"),
                   (start[0], f"# time of day at the run's start: {start[1]} at tsc {start[2]} s"),
                   (end[0], f"# time of day at the run's end: {end[1]} at tsc {end[2]} s")])


def test_time_of_day_notes_are_read_with_the_host_stamp_of_their_line():
    r = tod_run((1.0, "2026-12-31 23:59:58", "1.500000"), (8.0, "2027-01-01 00:00:05", "8.5"))
    s, e = tp.time_of_day(r, "start"), tp.time_of_day(r, "end")
    assert (s.tsc_s, s.host_s) == (1.5, STARTED + 1.0)
    assert e.seconds - s.seconds == 7             # across a year's end
    assert tp.time_of_day(result([(0.0, "TAP version 13")]), "end") is None


def test_days_from_civil_counts_leap_years():
    assert tp._days_from_civil(1970, 1, 1) == 0
    assert tp._days_from_civil(2000, 3, 1) - tp._days_from_civil(2000, 2, 28) == 2
    assert tp._days_from_civil(2100, 3, 1) - tp._days_from_civil(2100, 2, 28) == 1


# Each run starts at host 1.0 s, 10:00:00 and TSC 1.0 s; the end says how far the host's
# clock, the time of day and the TSC went on, and so which of the two clocks the time of day
# followed.
@pytest.mark.parametrize("end, follows", [
    # a 3 s QMP stop: the host and the time of day went on 10 s, the TSC 7 s
    ((11.0, "2026-12-02 10:00:10", "8.0"), "followed the host's clock, not the TSC"),
    # a SIGSTOP: all three went on together
    ((8.0, "2026-12-02 10:00:07", "8.0"), "followed both"),
    # frozen with the TSC (an emulator on instruction time, stopped by the host)
    ((11.0, "2026-12-02 10:00:07", "8.0"), "followed the TSC, not the host's clock"),
    ((11.0, "2026-12-02 10:00:30", "8.0"), "followed neither"),
], ids=["qmp stop", "sigstop", "frozen with the tsc", "neither"])
def test_time_of_day_follows_the_host_through_a_stop_of_the_tsc(end, follows):
    r = tod_run((1.0, "2026-12-02 10:00:00", "1.0"), end)
    said = tp.tod_follows(tp.time_of_day(r, "start"), tp.time_of_day(r, "end"))
    assert said.startswith(follows), said


def stop(**kw):
    base = dict(pause_ms=3000.0, longest_gap_ms=2999.0, hz=100.0, catchup=0, lost=0,
                peak_ticks=0, closed_ms=0.0, max_ahead_ms=0.0)
    base.update(kw)
    return tp.Deschedule(**base)


def test_tsc_runs_through_a_stop_only_when_a_probe_saw_most_of_it():
    assert tp.tsc_through(stop()).startswith("runs")
    assert tp.tsc_through(stop(longest_gap_ms=1499.0)).startswith("stops with the VM")


def test_tick_behaviour_names_what_became_of_the_owed_ticks():
    assert tp.tick_behaviour(stop(peak_ticks=300, lost=299)).startswith("lost: 299 of")
    # one tick came back, the rest were merged: lost, not catch-up
    said = tp.tick_behaviour(stop(peak_ticks=300, catchup=1, lost=299, closed_ms=30.0))
    assert said.startswith("lost") and "1 caught up" in said, said
    # 383 owed ticks and 396 catch-up ticks in 112 ms at 128 Hz: 1 + 396 / 14.3 = 28.6 times
    said = tp.tick_behaviour(stop(hz=128.0, peak_ticks=383, catchup=396, closed_ms=112.0))
    assert said.startswith("catch-up") and "28.6 times the rate" in said, said
    assert tp.tick_behaviour(stop(peak_ticks=300, catchup=300, closed_ms=5.0)).startswith(
        "storm")
    assert tp.tick_behaviour(stop()).startswith("frozen")
    assert tp.tick_behaviour(stop(max_ahead_ms=3002.0)).startswith("ahead: tick time ran 3002")
    # a tick or two ahead is not the stop's doing
    said = tp.tick_behaviour(stop(max_ahead_ms=11.0))
    assert said == "frozen: nothing was owed at the stop (tick time ran 11 ms ahead at most)"


DEVICES = [
    (0.0, "TAP version 13"),
    (0.0, "# tsc: 2596.112 MHz from PM timer (smallest bound of 3 measured, 8 ppm)"),
    (0.0, "# pmtimer: port 0x608, 24-bit, 3579545 Hz, wraps every 4.686 s"),
    (0.0, "# hpet: no HPET table"),
    (0.0, "# lapic: id 0 at 0xfee00000, version 0x14, 6 LVT entries, TSC-deadline no"),
    (0.0, "# lapic timer: 1000.000 MHz at divide by 1, from the tsc"),
    (0.0, "ok 1 - pit channel 0 mode 2 ticks at 100.0 Hz (divisor 11932), measured by the tsc"),
    (0.0, "  ---"), (0.0, "  programmed_hz: 99.998"), (0.0, "  measured_hz: 99.997"),
    (0.0, "  error_ppm: -3.5"), (0.0, "  tolerance_ppm: 119"), (0.0, "  ..."),
    (0.0, "ok 2 - pmtimer frequency agrees with the tsc"),
    (0.0, "  ---"), (0.0, "  error_ppm: 10.6"), (0.0, "  tolerance_ppm: 145"), (0.0, "  ..."),
    (0.0, "ok 3 - rtc periodic interrupt at 64 Hz, measured by the pmtimer # SKIP not judged: "
          "in each of 4 windows the host took the CPU"),
    (0.0, "  ---"), (0.0, "  programmed_hz: 64.000"), (0.0, "  measured_hz: 0.000"),
    (0.0, "  error_ppm: 0"), (0.0, "  bound_ppm: 200"), (0.0, "  ..."),
    (0.0, "ok 4 - ioapic routes the PIT # SKIP no IOAPIC (no MADT)"),
]


def test_rate_rows_keep_each_reference_and_verdict():
    rows = tp.rate_rows(result(DEVICES))
    assert [(w.device, w.reference, w.verdict) for w in rows] == \
        [("pit", "tsc", "ok"), ("pmtimer", "tsc", "ok"), ("rtc", "pmtimer", "not judged")]
    assert rows[0].claim == "pit channel 0 mode 2 ticks at 100.0 Hz (divisor 11932)"
    assert (rows[0].measured_hz, rows[0].error_ppm, rows[0].bound_ppm) == \
        ("99.997", "-3.5", "119")
    assert rows[2].bound_ppm == "200"


def test_presence_and_resolution_from_the_banner_and_the_checks():
    r = result(DEVICES)
    assert tp.presence("pmtimer", r)[0] and not tp.presence("hpet", r)[0]
    assert tp.presence("hpet", r)[1] == "no HPET table"
    assert tp.presence("pit", r) == (True, "1 checks")
    # every ioapic check skipped for a reason other than steal: absent, with that reason
    assert tp.presence("ioapic", r) == (False, "no IOAPIC (no MADT)")
    banner = r.tap.banner
    assert tp.resolution("tsc", banner) == "0.385 ns"
    assert tp.resolution("pmtimer", banner) == "279 ns"
    assert tp.resolution("lapic", banner).startswith("1.000 ns")
    assert tp.resolution("hpet", {"hpet": "period 10000000 fs"}) == "10 ns"


def test_the_command_documents_itself():
    """scripts/timer-profile --help runs without booting anything and names its options."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "scripts" / "timer-profile"
    out = subprocess.run([sys.executable, str(script), "--help"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    for option in ("--machine", "--qemu-arg", "--bochs", "--sync", "--ips", "--output"):
        assert option in out.stdout, out.stdout
