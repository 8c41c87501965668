"""tickguest/suite.py and `tickguest suite`: the catalogue read and checked, runs selected by
group and name, each run's verdict from its status, the outputs (TAP, JUnit, SUMMARY), and a
run that outlives its timeout killed with everything it started.  Guest runs boot the stand-in
for QEMU (fake_qemu.py, through $QEMU); pytest runs run small test files made here."""

import os
import signal
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tickguest import suite

REPO = Path(__file__).resolve().parents[2]

CATALOGUE = """\
[group:quick]
pytest_args = -k "not slow"

[fine]
cmdline = exit=0 duration=0.2s
groups = quick guests

[skips]
cmdline = duration=0.2s         # the fake ends with 77
groups = guests

[fails]
cmdline = exit=1 duration=0.2s
groups = guests

[wants-two]
cmdline = exit=2 duration=0.2s
expect = 2
groups = guests

[tests]
pytest = {tests}
groups = quick pytests
"""


def made_test_file(tmp_path, name: str, source: str) -> Path:
    """A test file for a pytest run of the catalogue, written under tmp_path."""
    t = tmp_path / name
    t.write_text(textwrap.dedent(source))
    return t


def write_tests(tmp_path) -> Path:
    return made_test_file(tmp_path, "test_made.py", """\
        def test_fine():
            assert True

        def test_slow():
            assert False, "only without the quick group's -k"
        """)


def catalogue(tmp_path, text=CATALOGUE) -> Path:
    c = tmp_path / "suite.cfg"
    c.write_text(text.format(tests=write_tests(tmp_path)))
    return c


def test_the_catalogue_reads_as_written(tmp_path):
    cat = suite.load(str(catalogue(tmp_path)))
    assert [e.name for e in cat.entries] == ["fine", "skips", "fails", "wants-two", "tests"]
    fine = cat.entries[0]
    assert (fine.kind, fine.cmdline, fine.groups, fine.expect) == \
        ("guest", "exit=0 duration=0.2s", ("quick", "guests"), 0)
    assert cat.entries[1].cmdline == "duration=0.2s"           # the comment is not in it
    assert cat.entries[3].expect == 2
    assert cat.entries[4].kind == "pytest"
    assert cat.groups() == ["quick", "guests", "pytests"]
    assert [e.name for e in cat.select(["quick"])] == ["fine", "tests"]
    assert [e.name for e in cat.select(["pytests"], ["fails"])] == ["fails", "tests"]
    assert len(cat.select()) == 5
    assert cat.pytest_args(cat.entries[4], ["quick"]) == ["-k", "not slow"]
    assert cat.pytest_args(cat.entries[4], ["pytests"]) == []
    with pytest.raises(ValueError, match="no group 'nope'"):
        cat.select(["nope"])
    with pytest.raises(ValueError, match="no run named 'nope'"):
        cat.select([], ["nope"])


def test_the_project_catalogue_is_valid_and_make_tests_group_holds_every_test_file():
    cat = suite.load()
    names = [e.name for e in cat.entries]
    assert len(names) == len(set(names))
    tested = {p for e in cat.select(["test"]) if e.pytest for p in e.pytest}
    files = {f"tests/conformance/{p.name}" for p in (REPO / "tests/conformance").glob("test_*.py")}
    assert files | {"tests/unit_py"} == tested
    assert {e.name for e in cat.select(["test"])} <= {e.name for e in cat.select(["conformance"])}
    assert cat.pytest_args(cat.select(["test"])[-1], ["test"]) == ["-m", "not full"]


@pytest.mark.parametrize("text, said", [
    ("[a]\ncmdline = x\n", "groups is missing"),
    ("[a]\ncmdline = x\ngroups = g\ncolour = red\n", "unknown key colour for a guest run"),
    ("[a]\npytest = t.py\ncmdline = x\ngroups = g\n", "unknown key cmdline for a pytest run"),
    ("[a]\ncmdline = x\ngroups = g\ndeschedule = pauses:every=1s\n", "deschedule: .*needs pause"),
    ("[a]\ncmdline = x\ngroups = g\ntimeout = soon\n", "timeout = soon is not a number"),
    ("[a]\ncmdline = x\niso = yes\ngroups = g\n", "give iso or cmdline"),
    ("[a]\ngroups = g\nfirmware = uefi\n", "a UEFI boot needs iso = yes"),
    ("[a b]\ncmdline = x\ngroups = g\n", "a run's name is"),
    ("[a]\ncmdline = x\ngroups = g\nexpect = fine\n", "expect = fine is not a status"),
    ("[group:g]\npytest_args = -x\n[a]\ncmdline = x\ngroups = h\n", "names a group no run is in"),
    ("[group:g]\ncolour = red\n[a]\ncmdline = x\ngroups = g\n", "a group takes pytest_args only"),
    ("", "no runs"),
    ("[a]\ncmdline = x\n[a]\n", "already exists"),
])
def test_a_bad_catalogue_says_where(text, said):
    with pytest.raises(ValueError, match=r"^cat\.cfg: .*" + said):
        suite.load("cat.cfg", text)


def tickguest(*args, env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "tickguest", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def fake_env(fake_qemu):
    env = dict(os.environ, QEMU=fake_qemu)
    env.pop("TICKGUEST_QEMU_ARGS", None)
    return env


def test_the_suite_runs_its_entries_and_says_what_became_of_each(tmp_path, fake_env):
    logs = tmp_path / "logs"
    r = tickguest("suite", "--catalogue", str(catalogue(tmp_path)), "--kernel", __file__,
                  "--logs", str(logs), "--junit", str(tmp_path / "s.xml"),
                  "--tap", str(tmp_path / "s.tap"), env=fake_env)
    assert r.returncode == 1, r.stdout + r.stderr          # "fails" failed
    out = r.stdout.splitlines()
    progress = [line for line in out if line.startswith("[")]
    assert [p.split()[1:3] for p in progress] == [["ok", "fine"], ["skip", "skips"],
                                                   ["FAIL", "fails"], ["ok", "wants-two"],
                                                   ["FAIL", "tests"]]
    assert progress[0].startswith("[1/5]") and "(4 left, about" in progress[0]
    assert progress[-1].endswith("(0 left)")
    assert "guest status 1 (failed)" in progress[2]
    assert "pytest status 1: 2 tests, 1 failed" in progress[4]
    assert any("only without the quick group's -k" in line for line in out)   # the tail
    assert out[-1].startswith("SUMMARY: 5 runs, 2 failed, 1 skipped, in ")
    assert "(pytest: 1 passed, 1 failed, 0 skipped)" in out[-1]
    # a log a run: the guest's serial report, pytest's output
    assert "# exit: done (status 0)" in (logs / "fine.log").read_text()
    assert "1 failed, 1 passed" in (logs / "tests.log").read_text()
    tap = (tmp_path / "s.tap").read_text().splitlines()
    assert tap[0] == "TAP version 13" and tap[-1] == "1..5"
    assert "ok 2 - skips # SKIP the guest skipped every check" in tap
    assert "not ok 3 - fails: guest status 1 (failed)" in tap
    junit = ET.parse(tmp_path / "s.xml").getroot()
    suites = {s.get("name"): s for s in junit.iter("testsuite")}
    assert set(suites) == {"tests", "guest runs"}
    assert (suites["tests"].get("tests"), suites["tests"].get("failures")) == ("2", "1")
    cases = {c.get("name"): c for c in suites["guest runs"].iter("testcase")}
    assert cases["fails"].find("failure") is not None
    assert cases["skips"].find("skipped") is not None and cases["fine"].find("*") is None


def test_a_group_brings_its_pytest_arguments_and_passes(tmp_path, fake_env):
    r = tickguest("suite", "--catalogue", str(catalogue(tmp_path)), "-g", "quick",
                  "--kernel", __file__, "--logs", str(tmp_path / "logs"), env=fake_env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.splitlines()[-1].startswith("SUMMARY: 2 runs, 0 failed, 0 skipped")
    assert (tmp_path / "logs" / "suite.tap").exists()          # the defaults: under --logs


def test_list_and_selection_errors(tmp_path, fake_env):
    cat = str(catalogue(tmp_path))
    r = tickguest("suite", "--catalogue", cat, "--list", "-g", "pytests", "-n", "fine")
    assert r.returncode == 0 and [line.split()[0] for line in r.stdout.splitlines()] == \
        ["fine", "tests"]
    r = tickguest("suite", "--catalogue", cat, "-g", "nope")
    assert r.returncode == 125 and "no group 'nope'" in r.stderr
    r = tickguest("suite", "--catalogue", cat, "-j", "0")
    assert r.returncode == 125 and "-j takes" in r.stderr
    r = tickguest("suite", "--catalogue", cat, "-g", "guests", "--kernel", "/nonexistent.elf")
    assert r.returncode == 125 and "/nonexistent.elf: not built" in r.stderr


def hanging_test(tmp_path) -> Path:
    """A test file whose test starts a child (its pid to child.pid) and sleeps."""
    return made_test_file(tmp_path, "test_hang.py", """\
        import subprocess, time
        def test_hang():
            p = subprocess.Popen(["sleep", "300"])
            open(%r, "w").write(str(p.pid))
            time.sleep(300)
        """ % str(tmp_path / "child.pid"))


def wait_for_file(path: Path, what: str) -> None:
    deadline = time.monotonic() + 60
    while not path.exists() or not path.read_text():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def assert_gone(pid: int) -> None:
    """pid ended (a zombie at most, until init reaps it)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split(") ")[1].split()[0] == "Z":
                    return
        except FileNotFoundError:
            return
        time.sleep(0.05)
    pytest.fail(f"{pid} outlived the run")


def test_a_run_past_its_timeout_is_killed_with_all_it_started(tmp_path):
    t = hanging_test(tmp_path)
    cat = suite.load("c.cfg", f"[hang]\npytest = {t}\ngroups = g\ntimeout = 3\n")
    start = time.monotonic()
    [o] = suite.run(cat, cat.entries, ["g"], str(tmp_path / "logs"), "k", "i")
    assert o.verdict == "not ok" and o.detail == "killed after 3 s"
    assert time.monotonic() - start < 3 + suite.KILL_GRACE_S + 10
    # the child is in the run's session, so it was killed with it
    assert_gone(int((tmp_path / "child.pid").read_text()))


def test_an_interrupted_suite_stops_its_runs_and_starts_no_more(tmp_path):
    t = hanging_test(tmp_path)
    cat = tmp_path / "c.cfg"
    cat.write_text(f"[hang]\npytest = {t}\ngroups = g\n[next]\npytest = {t}\ngroups = g\n")
    logs = tmp_path / "logs"
    proc = subprocess.Popen([sys.executable, "-m", "tickguest", "suite", "--catalogue", str(cat),
                             "--logs", str(logs)], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_for_file(tmp_path / "child.pid", "the first run never started its child")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=suite.KILL_GRACE_S + 20)
    finally:
        proc.kill()
    assert proc.returncode == 130 and "interrupted" in err, (out, err)
    assert_gone(int((tmp_path / "child.pid").read_text()))
    assert not (logs / "next.log").exists()


def test_parallel_runs_keep_catalogue_order(tmp_path, fake_env, monkeypatch):
    monkeypatch.setenv("QEMU", fake_env["QEMU"])
    text = "".join(f"[r{i}]\ncmdline = exit=0 duration={0.6 - i * 0.1:.1f}s\ngroups = g\n"
                   for i in range(4))
    cat = suite.load("c.cfg", text)
    seen = []
    outcomes = suite.run(cat, cat.entries, ["g"], str(tmp_path / "logs"), __file__, "i",
                         jobs=4, report=lambda done, total, o: seen.append((done, o.entry.name)))
    assert [o.entry.name for o in outcomes] == ["r0", "r1", "r2", "r3"]
    assert all(o.verdict == "ok" for o in outcomes), [o.detail for o in outcomes]
    assert [d for d, _ in seen] == [1, 2, 3, 4]
    assert sorted(n for _, n in seen) == ["r0", "r1", "r2", "r3"]
