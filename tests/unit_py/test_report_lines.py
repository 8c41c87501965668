"""tickguest/report_lines.py on the synthetic two-pause RTC run of test_report_html_pure: each
figure read from the line or check it comes from, and a clear error for one that is missing."""

import subprocess
import sys
from pathlib import Path

import pytest

import tickguest as tg
from tickguest import report_lines as lines

from .test_report_html_pure import GUEST, STARTED

REPO = Path(__file__).resolve().parents[2]


def result(guest_lines):
    stamped = [(STARTED + t, text) for t, text in guest_lines]
    return tg.Result(argv=["qemu"], lines=stamped, all_lines=stamped, raw="", qemu_rc=0,
                          status=0, timed_out=False, stderr="",
                          tap=tg.parse_tap([text for _, text in stamped]),
                          started=STARTED, duration=4.0)


def test_stats_and_backlog_lines_in_order():
    r = result(GUEST)
    stats = lines.stats(r)
    assert [s.guest_s for s in stats] == sorted(s.guest_s for s in stats)
    assert stats[0] == lines.StatsLine(0.5, 42, 110, 100.0, 414)
    assert stats[1].behind_us == 296926 and stats[1].at_most_us == 296926
    backlogs = lines.backlogs(r)
    assert [(b.guest_s, b.peak_ticks, b.catchup, b.lost) for b in backlogs] == \
        [(1.0, 38, 38, 0), (2.0, 38, 30, 8)]
    # a line that is not one of them
    assert lines.stats_line("# TimeTrackerStats rtc: 64 ints") is None
    assert lines.backlog_line("# TimeTrackerStats at 0.500 s: behind by 42 us") is None


def test_dropped_lines_are_counted_where_the_guest_says_so():
    assert lines.dropped_lines(result(GUEST)) == 0
    told = GUEST + [(3.0, "# console: 7 lines dropped here: the queue of 32 entries was full"),
                    (3.1, "# console: 2 lines dropped here: the queue of 32 entries was full")]
    assert lines.dropped_lines(result(told)) == 9


def test_accounting_line_and_checks():
    r = result(GUEST)
    assert (lines.irq_ms(r), lines.stolen_ms(r)) == (13, 605)
    assert lines.tick_source(r) == "rtc"
    assert lines.tick_period_ms(r) == pytest.approx(1000 / 128)
    assert lines.tick_clock(r)["lost"] == 8
    assert lines.sponge(r)["absorbed"] == 68
    assert sorted(lines.tasks(r)) == ["a", "b", "idle"]


def test_a_missing_figure_says_what_is_missing():
    bare = result([(0.5, "TAP version 13"), (0.6, "ok 1 - something else"), (0.7, "1..1")])
    with pytest.raises(LookupError, match="no '# accounting:' line"):
        lines.stolen_ms(bare)
    with pytest.raises(KeyError, match="no tick clock check"):
        lines.tick_source(bare)
    with pytest.raises(KeyError, match="sponge absorbed"):
        lines.sponge(bare)
    assert lines.stats(bare) == [] and lines.backlogs(bare) == []


def test_a_summary_names_the_failed_checks_the_serial_tail_would_miss():
    guest = [(0.5, "TAP version 13"), (0.6, "not ok 1 - hpet one-shot fires once")] + \
        [(0.7, f"# filler {i}") for i in range(60)] + [(0.8, "ok 2 - the rest"), (0.9, "1..2")]
    summary = result(guest).summary(tail=5)
    assert "failed checks (1): not ok 1 - hpet one-shot fires once" in summary
    assert "ok 2 - the rest" in summary and "# filler 10" not in summary


def test_a_summary_says_when_the_hosts_wall_clock_stepped():
    """QEMU's RTC follows the host's CLOCK_REALTIME: a step of it during a run is named in the
    summary, a drift far below an RTC second is not."""
    guest = [(0.5, "TAP version 13"), (0.6, "not ok 1 - rtc time of day advances"), (0.9, "1..1")]
    r = result(guest)
    assert "wall clock stepped" not in r.summary()
    r.wall_clock_step_s = r.WALL_CLOCK_STEP_NOTED_S / 2
    assert "wall clock stepped" not in r.summary()
    r.wall_clock_step_s = 3.7
    assert "the host's wall clock stepped +3.700 s" in r.summary()
    r.wall_clock_step_s = -180.0
    assert "stepped -180.000 s" in r.summary()


RTC_FAILED = [(0.5, "TAP version 13"), (0.6, "ok 1 - pit mode 2 counts down at 1193182 Hz"),
              (0.7, "not ok 2 - rtc time of day advances by one second from one update "
                    "interrupt to the next"), (0.9, "1..2")]


def test_a_step_under_the_rtc_excuses_only_rtc_failures():
    """The host cannot judge a run whose wall clock stepped under QEMU's RTC, when only RTC
    checks failed; a smaller step, an RTC on the virtual or monotonic clock, a failure of
    another device beside it, or no failure at all leave the verdict to the guest."""
    r = result(RTC_FAILED)
    r.wall_clock_step_s = 3.7
    assert r.host_clock_excuse() is None, "status 0 says no check failed: inconsistent"
    r.status = 1
    excuse = r.host_clock_excuse()
    assert excuse.startswith("not judged: the host's wall clock stepped +3.700 s")
    assert "not ok 2 - rtc time of day advances" in excuse
    r.wall_clock_step_s = -r.WALL_CLOCK_STEP_NOTED_S / 2
    assert r.host_clock_excuse() is None
    r.wall_clock_step_s = -3.7
    for rtc in ("clock=vm", "base=2024-02-29T23:59:58,clock=vm", "clock=rt,driftfix=slew"):
        r.argv = ["qemu", "-rtc", rtc]
        assert not r.rtc_on_host_clock and r.host_clock_excuse() is None, rtc
    r.argv = ["qemu", "-rtc", "driftfix=slew"]
    assert r.rtc_on_host_clock and r.host_clock_excuse() is not None
    # a PIT failure beside the RTC's; no failure at all
    for i, line in ((1, "not ok 1 - pit mode 2 counts down at 1193182 Hz"),
                    (2, "ok 2 - rtc alarm interrupt fires once")):
        other = result(RTC_FAILED[:i] + [(0.6, line)] + RTC_FAILED[i + 1:])
        other.wall_clock_step_s, other.status = 3.7, 1
        assert other.host_clock_excuse() is None, line
    r.status = tg.STATUS_TIMEOUT
    assert r.host_clock_excuse() is None, "a hang is never the step's doing"


PLUGIN_CASE = '''
import pytest
import tickguest as tg
from tickguest.qemu import host_excuses

def run(step, line):
    stamped = [(0.5, "TAP version 13"), (0.6, line), (0.9, "1..1")]
    return tg.Result(argv=["qemu"], lines=stamped, all_lines=stamped, raw="", qemu_rc=3,
                     status=1, timed_out=False, stderr="",
                     tap=tg.parse_tap([t for _, t in stamped]), started=0.0, duration=1.0,
                     wall_clock_step_s=step)

@pytest.mark.parametrize("step, line", [(3.7, "not ok 1 - rtc time of day advances"),
                                        (0.0, "not ok 1 - rtc time of day advances"),
                                        (3.7, "not ok 1 - pit mode 2 counts down")],
                         ids=["rtc-stepped", "rtc-steady", "pit-stepped"])
def test_run(step, line):
    r = run(step, line)
    assert r.status == 0, r.summary()

def test_other_assertion_after_a_step():
    r = run(3.7, "not ok 1 - rtc time of day advances")
    assert r.duration == 2.0, r.duration

def test_excuse_of_an_earlier_test_is_gone():
    assert not host_excuses
'''


def test_the_plugin_skips_a_failure_the_host_cannot_judge(tmp_path):
    """Through pytest itself: only the failed assertion whose message is the summary of an
    excused run becomes a skip with the excuse as its reason; the rest fail as before, and no
    excuse outlives its test."""
    (tmp_path / "conftest.py").write_text(
        f"import sys\nsys.path.insert(0, {str(REPO)!r})\n"
        "pytest_plugins = ['tickguest.pytest_plugin']\n")
    (tmp_path / "test_case.py").write_text(PLUGIN_CASE)
    tap = tmp_path / "out.tap"
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           f"--tap={tap}", str(tmp_path)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = tap.read_text().splitlines()
    assert lines[1].startswith("ok 1 - test_case.py::test_run[rtc-stepped] # SKIP Skipped: not "
                               "judged: the host's wall clock stepped +3.700 s"), lines
    assert lines[2:6] == ["not ok 2 - test_case.py::test_run[rtc-steady]",
                          "not ok 3 - test_case.py::test_run[pit-stepped]",
                          "not ok 4 - test_case.py::test_other_assertion_after_a_step",
                          "ok 5 - test_case.py::test_excuse_of_an_earlier_test_is_gone"], lines


def test_wall_minus_monotonic_holds_still_while_neither_clock_is_stepped():
    """Two reads a moment apart differ by the clocks' drift over that moment, far below the
    step a summary notes (an NTP slew is at most 500 ppm)."""
    from tickguest.qemu import wall_minus_monotonic
    assert abs(wall_minus_monotonic() - wall_minus_monotonic()) < tg.Result.WALL_CLOCK_STEP_NOTED_S
