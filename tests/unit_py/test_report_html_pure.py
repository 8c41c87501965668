"""tickguest/report_html.py on a synthetic run: what it reads from the guest's lines, and that the
page it writes stands alone.  No QEMU; the page tests need matplotlib."""

import json
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

import tickguest as tg
from tickguest import report_html

REPO = Path(__file__).resolve().parents[2]
STARTED = 100.0

def task_check(number, task, sampled, exact, true):
    """A task's plain sampling check with the YAML keys the page reads (w= given as 1.25)."""
    return [(3.70, f"ok {number} - task {task}: plain sampling charged its true share, within "
                   "the 99% binomial interval"),
            (3.70, "  ---"),
            (3.70, f"  task: {task}"),
            (3.70, f"  sampled_ms: {sampled:.3f}"),
            (3.70, f"  exact_ms: {exact:.3f}"),
            (3.70, f"  true_ms: {true:.3f}"),
            (3.70, f"  w_corrected_ms: {1.25 * sampled:.3f}"),
            (3.70, "  ...")]


# A two-pause RTC run as the guest prints it (docs/timekeeping.md), trimmed to what the page
# reads; each line with the host second it arrived at, counted from STARTED.
GUEST = [
    (0.50, "TAP version 13"),
    (0.50, "# cmdline: suite=accounting timer=rtc irq=ioapic sponge=run duration=3s"),
    (0.50, "# tick source: rtc periodic, RS=9, 128 Hz"),
    (0.60, "# running 2 tasks for 3000 ms"),
    (1.10, "# TimeTrackerStats at 0.500 s: behind by 42 us, at most 110 us; running at 100.0%; "
           "stolen 414 us"),
    (1.10, "# TimeTrackerStats rtc: 64 ints, 128.00/sec, 128.00 avg, 128.00 req; 65 tot, 65 req; "
           "0 catchup, 0 lost, 0 late, 0 ahead"),
    (1.60, "# TimeTrackerStats at 1.000 s: behind by 296926 us, at most 296926 us; running at "
           "40.0%; stolen 718 us"),
    (1.60, "# TimeTrackerStats rtc: 26 ints, 52.00/sec, 107.00 avg, 128.00 req; 91 tot, 129 req; "
           "0 catchup, 0 lost, 1 late, 0 ahead"),
    (1.61, "# TimeTrackerBacklog at 1.000 s: 38 ticks behind at most; 38 catchup, 0 lost; "
           "closed after 7.778 ms"),
    (2.10, "# TimeTrackerStats at 1.500 s: behind by 49 us, at most 289962 us; running at "
           "160.0%; stolen 302195 us"),
    (2.10, "# TimeTrackerStats rtc: 102 ints, 204.00/sec, 128.00 avg, 128.00 req; 193 tot, "
           "193 req; 38 catchup, 0 lost, 1 late, 0 ahead"),
    (2.60, "# TimeTrackerStats at 2.000 s: behind by 295660 us, at most 295660 us; running at "
           "40.0%; stolen 302195 us"),
    (2.61, "# TimeTrackerBacklog at 2.000 s: 38 ticks behind at most; 30 catchup, 8 lost; "
           "closed after 21.5 ms"),
    (3.10, "# TimeTrackerStats at 2.500 s: behind by 62500 us, at most 295000 us; running at "
           "130.0%; stolen 604472 us"),
    (3.10, "# TimeTrackerStats rtc: 96 ints, 192.00/sec, 128.00 avg, 128.00 req; 320 tot, 321 req; "
           "68 catchup, 8 lost, 2 late, 0 ahead"),
    (3.70, "ok 1 - rtc ticks at the programmed rate, measured by the tsc"),
    (3.70, "  ---"),
    (3.70, "  programmed_hz: 128.000"),
    (3.70, "  ..."),
    (3.70, "ok 2 - rtc tick time never ran ahead of the tsc by a period or more"),
    (3.70, "  ---"),
    (3.70, "  catchup_ticks: 68"),
    (3.70, "  lost: 8"),
    (3.70, "  compensated: 0"),
    (3.70, "  overcorrected: 0"),
    (3.70, "  max_behind_ms: 296.926"),
    (3.70, "  behind_at_end_ms: 62.500"),
    (3.70, "  ..."),
    (3.70, "# accounting: 384 ticks sampled, 3001 ms exact in tasks, 13 ms in interrupts, "
           "605 ms stolen seen (probe threshold 100 us); ticks stand for 3000.000 ms"),
    (3.70, "# task       ticks catchup  sampled_ms    exact_ms   stolen_ms     true_ms "
           "samp_err_ms exact_err_ms"),
    (3.70, "# a            200       0    1562.500    2155.852     602.672    1553.180       "
           "9.320     602.672"),
    (3.70, "# b            110       0     859.375     850.176       2.375     847.800      "
           "11.575       2.375"),
    (3.70, "# sponge        74      68     578.125      15.178       0.185      14.992     "
           "563.133       0.185"),
    (3.70, "# idle           0       0       0.000       0.000       0.000       0.000       "
           "0.000       0.000"),
] + task_check(3, "a", 1562.5, 2155.852, 1553.18) \
  + task_check(4, "b", 859.375, 850.176, 847.8) \
  + task_check(5, "idle", 0.0, 0.0, 0.0) \
  + [
    (3.70, "ok 6 - sponge absorbed every catch-up tick that came with a tick owed"),
    (3.70, "  ---"),
    (3.70, "  mode: run"),
    (3.70, "  catchup_ticks: 68"),
    (3.70, "  absorbed: 68"),
    (3.70, "  escaped: 0"),
    (3.70, "  stolen_seen_ms: 604.472"),
    (3.70, "  ..."),
    (3.70, "1..6"),
    (3.70, "# exit: passed (status 0)"),
]


def synthetic_record(**changes):
    record = {
        "name": "synthetic rtc, 2 pauses",
        "cmdline": "suite=accounting timer=rtc irq=ioapic sponge=run duration=3s",
        "qemu_args": ["qemu-system-x86_64", "-rtc", "driftfix=slew"],
        "started": STARTED,
        "pauses": [[STARTED + 1.30, STARTED + 1.60], [STARTED + 2.30, STARTED + 2.60]],
        "lines": [[STARTED + t, text] for t, text in GUEST],
        "method": "signal",
    }
    record.update(changes)
    return record


def render(tmp_path, runs):
    pytest.importorskip("matplotlib", reason="matplotlib not installed "
                        "(scripts/install-deps installs python3-matplotlib)")
    path = tmp_path / "report.html"
    report_html.render(runs, path, title="synthetic")
    return path.read_text(encoding="utf-8")


# -- reading a run


def test_stats_and_backlogs_are_placed_on_the_host_time_axis():
    v = report_html.read_run(synthetic_record())
    assert [s.x for s in v.stats] == pytest.approx([1.10, 1.60, 2.10, 2.60, 3.10])
    assert v.stats[1].behind_ms == pytest.approx(296.926)
    assert v.stats[2].at_most_ms == pytest.approx(289.962)
    assert v.stats[-1].stolen_ms == pytest.approx(604.472)
    assert v.pauses == [pytest.approx((1.30, 1.60)), pytest.approx((2.30, 2.60))]
    assert v.paused_ms == pytest.approx(600.0)
    assert v.tasks_start == pytest.approx(0.60)
    b = v.backlogs[1]
    assert (b.peak_ticks, b.catchup, b.lost, b.closed_ms) == (38, 30, 8, 21.5)
    assert b.opened_x == pytest.approx(2.61 - 0.0215)
    assert v.device[-1] == (pytest.approx(3.10), 68, 8)


def test_tasks_from_their_checks_and_the_sponge_from_the_table():
    v = report_html.read_run(synthetic_record())
    assert list(v.tasks) == ["a", "b", "idle", "sponge"]
    assert v.tasks["a"] == {"sampled_ms": 1562.5, "exact_ms": 2155.852, "true_ms": 1553.18,
                            "w_corrected_ms": 1953.125}
    assert v.tasks["sponge"] == {"sampled_ms": 578.125, "exact_ms": 15.178, "true_ms": 14.992}
    assert v.table["b"]["stolen_ms"] == pytest.approx(2.375)


def test_key_figures_and_verdict():
    v = report_html.read_run(synthetic_record())
    assert v.passed and v.verdict == "passed (status 0)"
    assert v.stolen_seen_ms == 605          # the accounting line wins
    assert v.clock["lost"] == 8 and v.sponge["absorbed"] == 68
    assert v.tick_hz == 128.0


def test_a_run_without_an_exit_line_says_so():
    lines = [[STARTED + t, text] for t, text in GUEST if not text.startswith("# exit")]
    v = report_html.read_run(synthetic_record(lines=lines, status=124))
    assert not v.passed
    assert v.verdict == "no exit line; host: timeout (status 124)"


def test_a_record_without_lines_is_an_error():
    record = synthetic_record()
    del record["lines"]
    with pytest.raises(ValueError, match="'lines'"):
        report_html.read_run(record)


def test_record_from_a_result_survives_json():
    lines = [(STARTED + t, text) for t, text in GUEST]
    result = SimpleNamespace(
        argv=["qemu-system-x86_64", "-kernel", "k.elf", "-append", "suite=accounting"],
        lines=lines, started=STARTED, status=0,
        tap=tg.parse_tap([text for _, text in lines]))
    record = report_html.record_from(result, [(STARTED + 1.3, STARTED + 1.6)], "r", "signal")
    assert record["cmdline"] == "suite=accounting"
    assert record["pauses"] == [[STARTED + 1.3, STARTED + 1.6]]
    assert json.loads(json.dumps(record)) == record
    with pytest.raises(ValueError, match="method"):
        report_html.record_from(result, [], "r", "sigstop")


# -- the page


def test_the_page_is_self_contained(tmp_path):
    page = render(tmp_path, [synthetic_record()])
    assert not re.search(r"https?://", page), "the page names an outside address"
    assert "<link" not in page and "<script" not in page
    srcs = re.findall(r"""\bsrc\s*=\s*["']?([^"'\s>]*)""", page)
    assert len(srcs) == 3 and all(s.startswith("data:image/png;base64,") for s in srcs), \
        [s[:40] for s in srcs]
    hrefs = re.findall(r"""\bhref\s*=\s*["']?([^"'\s>]*)""", page)
    inside = [h for h in hrefs if h.startswith("#")]
    logs = [h for h in hrefs if not h.startswith("#")]
    assert inside and logs == ["report.logs/run-0-synthetic_rtc_2_pauses.log"], hrefs
    assert re.search(r"url\(", page) is None


def test_the_page_shows_every_plot_and_the_pauses(tmp_path):
    page = render(tmp_path, [synthetic_record()])
    for plot in ("behind", "catchup", "charged"):
        assert re.search(rf'<img class="plot" id="run-0-{plot}" alt="[^"]+" src="data:', page), plot
    assert 'data-pauses="2"' in page
    assert "68 of 68 catch-up ticks" in page
    assert "passed (status 0)" in page


def test_a_run_without_timekeeping_lines_reads_not_in_this_run(tmp_path):
    bare = {"name": "bare", "started": 0.0,
            "lines": [[1.0, "TAP version 13"], [1.0, "1..0"],
                      [1.0, "# exit: skipped (status 77)"]]}
    page = render(tmp_path, [synthetic_record(), bare])
    section = page[page.index('id="run-1"'):]
    assert "<img" not in section
    for plot in ("behind", "catchup", "charged"):
        assert re.search(rf'id="run-1-{plot}">[^<]*not in this run', section), plot
    assert 'data-pauses="0"' in section


def test_the_script_writes_the_page(tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib not installed "
                        "(scripts/install-deps installs python3-matplotlib)")
    runs = tmp_path / "runs.json"
    runs.write_text(json.dumps([synthetic_record()]))
    out = tmp_path / "out.html"
    p = subprocess.run([sys.executable, str(REPO / "scripts" / "report-html"), str(runs),
                        "-o", str(out)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert 'id="run-0-charged"' in out.read_text(encoding="utf-8")


def test_the_host_s_check_stands_beside_the_guest_s_verdict():
    """A run the guest passed but the host's ground truth failed shows red in the summary and
    in its section, with the test and its message; one no test checked says so."""
    failed = synthetic_record(name="failed by the host", load=[4.25, 4.5, 4.0], host_check={
        "test": "tests/conformance/test_ground_truth.py::test_matrix[rtc-run-20%-fixed]",
        "outcome": "failed", "message": "AssertionError: (2824, 2800.1)"})
    page = report_html.render_html([failed, synthetic_record(name="unchecked")],
                                   about={"tickguest": "0.1.0, commit abc", "date": "today"})
    summary = page.split('<table id="summary">')[1].split("</table>")[0]
    rows = summary.split("<tr>")[2:]
    assert '<span class="passed">passed (status 0)</span>' in rows[0]
    assert re.search(r'<span class="failed" title="[^"]*test_matrix\[rtc-run-20%-fixed\]">'
                     r'failed</span>', rows[0]), rows[0]
    assert "not checked by the host" in rows[1]
    assert "AssertionError: (2824, 2800.1)" in page
    assert "host load average at the run's end: 4.25 4.50 4.00" in page
    assert '<table id="about"><tr><th class="l">tickguest</th><td class="l">0.1.0, commit abc' \
        in page


def test_about_host_names_the_guest_s_version_and_the_commit():
    about = report_html.about_host([synthetic_record(lines=[[0.0, "TAP version 13"],
                                                            [0.0, "# tickguest: 9.9.9"]])])
    assert about["tickguest"].startswith("9.9.9, commit ")
    assert set(about) == {"tickguest", "emulator", "host", "date"}


def test_each_run_links_its_raw_log_beside_the_page(tmp_path):
    bare = {"name": "no lines", "started": 0.0, "lines": []}
    page = render(tmp_path, [synthetic_record(), bare])
    link = re.search(r'<a id="run-0-log" href="([^"]+)"', page)
    assert link, page[:2000]
    log = (tmp_path / link.group(1)).read_text(encoding="utf-8").splitlines()
    assert log == [text for _, text in GUEST]
    assert 'id="run-1-log"' not in page          # nothing captured, nothing linked


RATES = [
    (5.0, "ok 7 - pit ticks at the programmed rate, measured by the tsc"),
    (5.0, "  ---"), (5.0, "  error_ppm: -2.500"), (5.0, "  tolerance_ppm: 135"), (5.0, "  ..."),
    (5.0, "not ok 8 - hpet timer 0 runs at 1000 Hz, measured by the tsc"),
    (5.0, "  ---"), (5.0, "  error_ppm: 900.125"), (5.0, "  tolerance_ppm: 150"), (5.0, "  ..."),
    (5.0, "ok 9 - lapic timer rate # SKIP no local APIC"),
    (5.0, "  ---"), (5.0, "  error_ppm: 0"), (5.0, "  tolerance_ppm: 100"), (5.0, "  ..."),
    (5.0, "ok 10 - the console task writes its lines"),
    (5.0, "  ---"), (5.0, "  error_ppm: 3"), (5.0, "  ..."),
]


def test_device_rates_are_read_with_their_bounds_and_drawn(tmp_path):
    lines = GUEST[:3] + RATES + GUEST[3:]
    record = synthetic_record(lines=[[STARTED + t, text] for t, text in lines])
    view = report_html.read_run(record)
    assert report_html.device_rates(view) == [
        (7, "pit ticks at the programmed rate, measured by the tsc", -2.5, 135.0, "ok"),
        (8, "hpet timer 0 runs at 1000 Hz, measured by the tsc", 900.125, 150.0, "not ok"),
        (9, "lapic timer rate", 0.0, 100.0, "skipped"),
    ]                                            # no bound, no rate: check 10 is not one
    page = render(tmp_path, [record, synthetic_record()])
    assert re.search(r'<img class="plot" id="run-0-rates" alt="[^"]+" src="data:', page)
    assert 'id="run-1-rates"' not in page        # a run with no rate checks draws none
