"""tickguest's pytest plugin: the outputs CI and people read, for every test under tests/
(tests/conftest.py loads it) and for any pytest run of `tickguest suite` (which passes -p).

--tap=PATH      a TAP version 13 file with one line per test (pytest's own JUnit XML comes
                from --junitxml); prove or any TAP reader takes it.
--report-html=PATH
                the HTML report of every run a test recorded with the `run_records` fixture
                (tickguest/report_html.py: plots of behind-by, catch-up and charged-vs-true time).
--run-records=PATH
                those runs' records as JSON, for a page drawn later (tickguest suite).

It also gives the host its own "not judged": a test whose failed assertion carries the summary
of a run the host cannot judge (Result.host_clock_excuse) is reported as skipped, with why.
"""

import json
from pathlib import Path

import pytest

from .qemu import host_excuses


def pytest_addoption(parser):
    parser.addoption("--tap", metavar="PATH", help="write a TAP file of the test results")
    parser.addoption("--report-html", metavar="PATH",
                     help="write the HTML report of the recorded guest runs")
    parser.addoption("--run-records", metavar="PATH",
                     help="write the recorded guest runs as JSON (what tickguest suite "
                          "draws its page from)")


class _TapCollector:
    """Keeps one report per test: the call phase, or setup when setup failed or skipped.  It
    also gives each run record a test made (run_records) that test's outcome, so the HTML page
    shows the host's check of a run beside the guest's own verdict."""

    def __init__(self, records):
        self.reports = []
        self.records = records
        self.first = 0          # the first record of the test being run

    def pytest_runtest_logreport(self, report):
        if report.when == "setup":
            self.first = len(self.records)
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.reports.append(report)
            crash = getattr(report.longrepr, "reprcrash", None)
            for record in self.records[self.first:]:
                record["host_check"] = {"test": report.nodeid, "outcome": report.outcome,
                                        "message": crash.message if crash else ""}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    host_excuses.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A test whose assertion failed with the summary of a run the host cannot judge
    (Result.host_clock_excuse: the host's wall clock stepped under QEMU's RTC, and only RTC
    checks failed) is reported as skipped, with that reason: neither the guest nor the test
    was shown wrong.  Any other failure stands, the excused run's included if the failed
    assertion was about something else (its message was not that run's summary)."""
    outcome = yield
    report = outcome.get_result()
    if call.when == "call" and report.failed and host_excuses and \
            call.excinfo is not None and call.excinfo.errisinstance(AssertionError):
        _, line, _ = item.location
        report.outcome = "skipped"
        report.longrepr = (str(item.path), (line or 0) + 1, f"Skipped: {host_excuses[-1]}")


def pytest_configure(config):
    config.addinivalue_line("markers", "full: only in the whole matrix (make conformance)")
    config._run_records = []
    config._tap = _TapCollector(config._run_records)
    config.pluginmanager.register(config._tap, "tickguest-tap")


def _tap_line(n, report):
    name = report.nodeid
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else "skipped"
        return f"ok {n} - {name} # SKIP {reason}"
    return f"{'ok' if report.passed else 'not ok'} {n} - {name}"


@pytest.fixture(scope="session")
def run_records(pytestconfig):
    """A list a test appends run records to (tickguest/report_html.record_from); rendered into
    --report-html at the end of the session."""
    return pytestconfig._run_records


def pytest_sessionfinish(session):
    config = session.config
    tap = config.getoption("--tap")
    if tap:
        reports = config._tap.reports
        lines = ["TAP version 13"] + [_tap_line(i + 1, r) for i, r in enumerate(reports)]
        lines.append(f"1..{len(reports)}")
        Path(tap).parent.mkdir(parents=True, exist_ok=True)
        Path(tap).write_text("\n".join(lines) + "\n")
    records = config.getoption("--run-records")
    if records:
        Path(records).parent.mkdir(parents=True, exist_ok=True)
        Path(records).write_text(json.dumps(config._run_records))
    html = config.getoption("--report-html")
    if html and config._run_records:
        Path(html).parent.mkdir(parents=True, exist_ok=True)
        Path(html).with_suffix(".json").write_text(json.dumps(config._run_records))
        from tickguest import report_html
        report_html.render(config._run_records, html, title="tickguest conformance runs",
                           about=report_html.about_host(config._run_records))
