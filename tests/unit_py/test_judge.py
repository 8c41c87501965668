"""tickguest/judge.py on logs made up here: what a capture from another hypervisor brings along,
and the logs that must give no verdict."""

import tickguest as tg
from tickguest import judge

REPORT = """TAP version 13
# tickguest: 0.1.0
# cmdline: suite=accounting duration=1s
ok 1 - TSC calibration
  ---
  tsc_hz: 2600000000
  ...
# TimeTrackerStats at 1.008 s: behind by 5 us, at most 9 us; running at 100.0%; stolen 0 us
ok 2 - pit ticks at the programmed rate # SKIP not judged: robbed
# TimeTrackerBacklog at 1.500 s: 3 ticks behind at most; 0 catchup, 3 lost; closed after 20.000 ms
1..2
# exit: passed (status 0)
"""


def captured(report=REPORT):
    """The report as COM1 gives it on a GRUB boot: make's echo, the menu's escapes, CR LF ends,
    the header on the line GRUB's last escape left."""
    body = report.replace("\n", "\r\n")
    return ("make run\n\x1b[H\x1b[J\x1b[1;1H  Booting `tickguest'\r\n\r\n\x1b[0m" + body).encode()


def test_noise_and_carriage_returns_go_the_report_stays():
    j = judge.judge(captured())
    assert j.status == 0 and j.problems == []
    assert j.lines[0] == "TAP version 13" and j.noise == 3
    assert j.tap_text() == REPORT
    assert "\r" not in j.tap_text() and "\x1b" not in j.tap_text()
    assert [t.number for t in j.tap.tests] == [1, 2]
    assert j.tap.tests[0].yaml == {"tsc_hz": 2600000000}


def test_times_are_the_guest_s_own_stamps():
    j = judge.judge(captured())
    at = dict(zip(j.lines, j.times))
    assert at["ok 1 - TSC calibration"] == 0.0                  # before the first stamp
    assert at["ok 2 - pit ticks at the programmed rate # SKIP not judged: robbed"] == 1.008
    assert at["# exit: passed (status 0)"] == 1.5
    record = j.record("captured")
    assert record["clock"] == "guest" and record["method"] == "unknown"
    assert record["lines"][-1] == [1.5, "# exit: passed (status 0)"]


def test_the_status_is_the_exit_line_s():
    failed = REPORT.replace("ok 1 - TSC", "not ok 1 - TSC").replace("passed (status 0)",
                                                                     "failed (status 1)")
    assert judge.judge(captured(failed)).status == 1
    skipped = REPORT.replace("ok 1 - TSC calibration", "ok 1 - TSC calibration # SKIP none") \
                    .replace("passed (status 0)", "skipped (status 77)")
    assert judge.judge(skipped).status == 77


def test_no_verdict_from_a_log_cut_short_or_at_odds_with_itself():
    cut = judge.judge(captured(REPORT.split("1..2")[0]))
    assert cut.status == tg.STATUS_NO_VERDICT
    assert "ends before the guest's verdict" in cut.problems[0]
    odd = judge.judge(REPORT.replace("ok 2", "not ok 2").replace(" # SKIP not judged: robbed", ""))
    assert odd.status == tg.STATUS_NO_VERDICT
    assert any("status 0 with 1 'not ok'" in p for p in odd.problems), odd.problems
    none = judge.judge(b"SeaBIOS (version 1.16)\r\nBooting from DVD/CD...\r\n")
    assert none.status == tg.STATUS_NO_VERDICT and none.lines == [] and none.noise == 3
