"""The suite: named runs from one catalogue file, run by `tickguest suite` (as kvm-unit-tests'
run_tests.sh runs its unittests.cfg).  `make test` and `make conformance` are two of its
groups.

The catalogue (tests/suite.cfg) is an INI file, a section a run, run in the file's order:

    [pit-pauses]
    cmdline = suite=accounting timer=pit duration=4s   the guest's command line
    deschedule = pauses:every=1s,pause=300ms           a plan (plan.py); default none
    groups = smoke deschedule                          the groups it is in
    timeout = 60                                       seconds before it is killed

A guest run also takes machine (QEMU's -machine type, default pc), accel (tcg or kvm: a kvm
run is skipped, with the probe's reason, where KVM does not work), qemu (more QEMU arguments),
iso = yes (boot build/tickguest.iso instead of the ELF; no cmdline then), firmware (bios or
uefi) and expect (the guest status that passes, default 0).  A guest run passes with that
status, is skipped with 77 or when the host cannot apply its plan, and fails otherwise.

A section with pytest = PATH... instead of cmdline runs those pytest files (the tests that
hold a run to the host's ground truth); it passes when pytest does, and is skipped when it
collected nothing.  A [group:NAME] section gives a group's pytest_args, added to every pytest
run of the group (the test group leaves out the tests marked full).

Every run writes NAME.log under the logs folder (build/logs): the guest's serial report, or
pytest's output; a pytest run also NAME.xml (its JUnit XML) and NAME.json (its guests' run
records).  At the end the suite writes one JUnit XML, TAP and HTML page for all of it and a
SUMMARY line.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Optional

from . import plan as plans
from .machine import cmdline_duration_s, kvm_available, timeout_for
from .status import status_name

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.realpath(__file__)), ".."))
CATALOGUE = os.path.join(REPO, "tests", "suite.cfg")

GUEST_KEYS = {"cmdline", "machine", "accel", "qemu", "iso", "firmware", "deschedule", "expect"}
COMMON_KEYS = {"groups", "timeout"}
PYTEST_TIMEOUT_S = 1800         # a pytest run with no timeout of its own
KILL_GRACE_S = 15               # between SIGINT (cleanup runs) and SIGKILL at a timeout
PYTEST_NO_TESTS = 5             # pytest's status when it collected nothing


@dataclass
class Entry:
    """One named run of the catalogue."""
    name: str
    groups: tuple
    timeout_s: Optional[float] = None
    cmdline: str = ""
    machine: str = "pc"
    accel: str = "tcg"
    qemu_args: list = field(default_factory=list)
    iso: bool = False
    firmware: str = "bios"
    plan: plans.Plan = field(default_factory=lambda: plans.parse("none"))
    expect: int = 0
    pytest: Optional[list] = None

    @property
    def kind(self) -> str:
        return "pytest" if self.pytest is not None else "guest"

    def timeout(self) -> float:
        """How long the suite lets the run take before it kills it: its own timeout, else the
        guest's (machine.timeout_for, with the plan's pauses) and a minute for the host side."""
        if self.timeout_s is not None:
            return self.timeout_s
        if self.pytest is not None:
            return PYTEST_TIMEOUT_S
        return 60 + timeout_for(cmdline_duration_s(self.cmdline), iso=self.iso,
                                uefi=self.firmware == "uefi")


@dataclass
class Catalogue:
    entries: list
    group_args: dict            # group -> pytest arguments
    path: str = CATALOGUE

    def groups(self) -> list:
        seen = []
        for e in self.entries:
            seen += [g for g in e.groups if g not in seen]
        return seen

    def select(self, groups: list = (), names: list = ()) -> list:
        """The entries in any of groups (all, if none is given) or named, in catalogue order;
        ValueError for a group or name it does not have."""
        known = set(self.groups())
        for g in groups:
            if g not in known:
                raise ValueError(f"{self.path}: no group {g!r} (groups: {', '.join(sorted(known))})")
        by_name = {e.name for e in self.entries}
        for n in names:
            if n not in by_name:
                raise ValueError(f"{self.path}: no run named {n!r}")
        if not groups and not names:
            return list(self.entries)
        return [e for e in self.entries
                if e.name in names or any(g in e.groups for g in groups)]

    def pytest_args(self, entry: Entry, groups: list) -> list:
        """The group arguments of the first selected group (in the order given) the entry is
        in; none when it was selected by name."""
        for g in groups:
            if g in entry.groups:
                return list(self.group_args.get(g, []))
        return []


def _bad(path: str, section: str, message: str) -> ValueError:
    return ValueError(f"{path}: [{section}]: {message}")


def _entry(path: str, name: str, s: configparser.SectionProxy) -> Entry:
    keys = set(s.keys())
    is_pytest = "pytest" in keys
    allowed = COMMON_KEYS | ({"pytest"} if is_pytest else GUEST_KEYS)
    unknown = keys - allowed
    if unknown:
        raise _bad(path, name, f"unknown key{'s' if len(unknown) > 1 else ''} "
                               f"{', '.join(sorted(unknown))} for a {'pytest' if is_pytest else 'guest'} "
                               f"run (it takes {', '.join(sorted(allowed))})")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
        raise _bad(path, name, "a run's name is letters, digits, '.', '_' and '-' (it names "
                               "its log file)")
    groups = tuple(s.get("groups", "").split())
    if not groups:
        raise _bad(path, name, "groups is missing: every run is in at least one group")
    e = Entry(name, groups)
    if "timeout" in keys:
        try:
            e.timeout_s = float(s["timeout"])
        except ValueError:
            raise _bad(path, name, f"timeout = {s['timeout']} is not a number of seconds") from None
        if not 0 < e.timeout_s < 86400:
            raise _bad(path, name, "timeout must lie between 0 and a day")
    if is_pytest:
        e.pytest = shlex.split(s["pytest"])
        if not e.pytest:
            raise _bad(path, name, "pytest = names no files")
        return e
    e.cmdline = s.get("cmdline", "")
    e.machine, e.accel = s.get("machine", "pc"), s.get("accel", "tcg")
    e.qemu_args = shlex.split(s.get("qemu", ""))
    e.firmware = s.get("firmware", "bios")
    if e.firmware not in ("bios", "uefi"):
        raise _bad(path, name, f"firmware is bios or uefi, not {e.firmware}")
    try:
        e.iso = s.getboolean("iso", False)
    except ValueError:
        raise _bad(path, name, f"iso = {s['iso']} is not yes or no") from None
    if e.iso and e.cmdline:
        raise _bad(path, name, "an ISO boots its GRUB menu's command line: give iso or cmdline")
    if e.firmware == "uefi" and not e.iso:
        raise _bad(path, name, "a UEFI boot needs iso = yes (OVMF cannot start a -kernel image)")
    try:
        e.plan = plans.parse(s.get("deschedule", "none"))
    except ValueError as err:
        raise _bad(path, name, f"deschedule: {err}") from None
    try:
        e.expect = int(s.get("expect", "0"))
    except ValueError:
        raise _bad(path, name, f"expect = {s['expect']} is not a status") from None
    return e


def load(path: str = CATALOGUE, text: str = None) -> Catalogue:
    """The catalogue at path (or in text, named path); ValueError saying where it is wrong."""
    cp = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=("#",),
                                   default_section="\0none")
    try:
        if text is None:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        cp.read_string(text, source=path)
    except (configparser.Error, OSError) as err:
        raise ValueError(f"{path}: {err}") from None
    entries, group_args = [], {}
    for name in cp.sections():
        s = cp[name]
        if name.startswith("group:"):
            unknown = set(s.keys()) - {"pytest_args"}
            if unknown:
                raise _bad(path, name, f"a group takes pytest_args only, not "
                                       f"{', '.join(sorted(unknown))}")
            group_args[name[len("group:"):]] = shlex.split(s.get("pytest_args", ""))
        else:
            entries.append(_entry(path, name, s))
    if not entries:
        raise ValueError(f"{path}: no runs")
    for g in group_args:
        if not any(g in e.groups for e in entries):
            raise ValueError(f"{path}: [group:{g}] names a group no run is in")
    return Catalogue(entries, group_args, path)


# -- running


@dataclass
class Outcome:
    """What became of one run: verdict is ok, not ok or skip."""
    entry: Entry
    verdict: str
    status: Optional[int]
    seconds: float
    log: str
    detail: str             # the status or reason, for the progress line and the TAP point
    counts: dict = field(default_factory=dict)      # a pytest run's tests, failures, skipped


def guest_command(e: Entry, kernel: str, iso: str, log: str, record: str) -> list:
    argv = [sys.executable, "-m", "tickguest", "run"]
    argv += ["--iso", iso] if e.iso else ["--kernel", kernel, "--append", e.cmdline]
    argv += ["--machine", e.machine, "--accel", e.accel, "--deschedule", e.plan.text,
             "--log", log, "--record", record, "--quiet"]
    if e.firmware == "uefi":
        argv.append("--uefi")
    return argv + (["--"] + e.qemu_args if e.qemu_args else [])


def pytest_command(e: Entry, group_args: list, logs: str) -> list:
    base = os.path.join(logs, e.name)
    return ([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
             "-p", "tickguest.pytest_plugin",
             *[p if os.path.isabs(p) or p.startswith("-") else os.path.join(REPO, p)
               for p in e.pytest], *group_args,
             f"--junitxml={base}.xml", f"--run-records={base}.json"])


def _skip_reason(e: Entry) -> Optional[str]:
    if e.kind != "guest":
        return None
    if "kvm" in e.accel.split(":"):
        ok, why = kvm_available()
        if not ok:
            return f"KVM is not usable here: {why}"
    return e.plan.unavailable()


class Stopped(Exception):
    """The suite was interrupted before this run could start."""


class _Running:
    """The runs' processes, so an interrupted suite can stop them all (each is in a session
    of its own, out of reach of the terminal's Ctrl-C)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.procs: set = set()
        self.stopping = False

    def start(self, argv, **kw) -> subprocess.Popen:
        with self.lock:
            if self.stopping:
                raise Stopped()
            proc = subprocess.Popen(argv, start_new_session=True, **kw)
            self.procs.add(proc)
            return proc

    def done(self, proc) -> None:
        with self.lock:
            self.procs.discard(proc)

    def stop_all(self) -> None:
        with self.lock:
            self.stopping = True
            procs = list(self.procs)
        threads = [threading.Thread(target=_stop, args=(p,)) for p in procs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


def _run_process(running: _Running, argv: list, log_path: str, timeout_s: float,
                 env: dict) -> tuple:
    """Run argv in a session of its own, its output to log_path: (status, timed_out).  At the
    timeout SIGINT first (pytest and tickguest run then kill their QEMU and write their
    reports), SIGKILL after KILL_GRACE_S."""
    with open(log_path, "w", encoding="utf-8") as log:
        log.write(" ".join(shlex.quote(a) for a in argv) + "\n\n")
        log.flush()
        try:
            proc = running.start(argv, stdout=log, stderr=subprocess.STDOUT, cwd=REPO, env=env)
        except Stopped:
            os.remove(log_path)     # no run, no log
            raise
        try:
            return proc.wait(timeout_s), False
        except subprocess.TimeoutExpired:
            _stop(proc)
            return proc.returncode, True
        finally:
            if proc.returncode is None:
                _stop(proc)
            running.done(proc)


def _stop(proc: subprocess.Popen) -> None:
    for sig, grace in ((signal.SIGINT, KILL_GRACE_S), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _junit_counts(path: str) -> dict:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return {}
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    return {k: sum(int(s.get(k, 0)) for s in suites)
            for k in ("tests", "failures", "errors", "skipped")}


def run_entry(e: Entry, cat: Catalogue, groups: list, logs: str, kernel: str, iso: str,
              running: _Running = None) -> Outcome:
    log = os.path.join(logs, e.name + ".log")
    for suffix in (".log", ".xml", ".json"):
        try:
            os.remove(os.path.join(logs, e.name + suffix))
        except FileNotFoundError:
            pass
    why = _skip_reason(e)
    if why:
        with open(log, "w", encoding="utf-8") as f:
            f.write(f"skipped: {why}\n")
        return Outcome(e, "skip", None, 0.0, log, why)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [REPO, env.get("PYTHONPATH")]))
    if e.kind == "pytest":
        argv = pytest_command(e, cat.pytest_args(e, groups), logs)
    else:
        argv = guest_command(e, kernel, iso, log + ".serial", os.path.join(logs, e.name + ".json"))
    start = time.monotonic()
    status, timed_out = _run_process(running or _Running(), argv, log, e.timeout(), env)
    seconds = time.monotonic() - start
    if timed_out:
        return Outcome(e, "not ok", status, seconds, log, f"killed after {e.timeout():g} s")
    if e.kind == "pytest":
        counts = _junit_counts(os.path.join(logs, e.name + ".xml"))
        said = ", ".join(f"{counts.get(k, 0)} {w}" for k, w in
                         (("tests", "tests"), ("failures", "failed"), ("errors", "errors"),
                          ("skipped", "skipped")) if counts.get(k) or k == "tests")
        if status == 0:
            return Outcome(e, "ok", status, seconds, log, said, counts)
        if status == PYTEST_NO_TESTS:
            return Outcome(e, "skip", status, seconds, log, "pytest collected nothing", counts)
        return Outcome(e, "not ok", status, seconds, log, f"pytest status {status}: {said}",
                       counts)
    _merge_serial(log)
    said = f"guest status {status} ({status_name(status)})"
    if status == e.expect:
        return Outcome(e, "ok", status, seconds, log, said)
    if status == 77:
        return Outcome(e, "skip", status, seconds, log, "the guest skipped every check")
    return Outcome(e, "not ok", status, seconds, log,
                   said + (f", expected {e.expect}" if e.expect else ""))


def _merge_serial(log: str) -> None:
    """The guest run's log: tickguest run's messages, then the whole serial output it kept."""
    serial = log + ".serial"
    if os.path.exists(serial):
        with open(serial, encoding="utf-8") as f, open(log, "a", encoding="utf-8") as out:
            out.write("\n" + f.read())
        os.remove(serial)


def run(cat: Catalogue, entries: list, groups: list, logs: str, kernel: str, iso: str,
        jobs: int = 1, report: Callable[[int, int, Outcome], None] = None) -> list:
    """Run entries, jobs at a time; report(done, total, outcome) as each ends.  Outcomes in
    catalogue order.  Interrupted (KeyboardInterrupt in the calling thread), it stops the
    runs under way, starts no more, and raises again."""
    os.makedirs(logs, exist_ok=True)
    lock, done, running = threading.Lock(), [0], _Running()

    def one(e):
        o = run_entry(e, cat, groups, logs, kernel, iso, running)
        with lock:
            done[0] += 1
            if report:
                report(done[0], len(entries), o)
        return o

    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    futures = [pool.submit(one, e) for e in entries]
    try:
        while not all(f.done() for f in futures):
            time.sleep(0.2)     # a plain wait: the interrupt reaches this thread between naps
    except KeyboardInterrupt:
        running.stop_all()
        for f in futures:
            f.cancel()
        pool.shutdown(wait=True)
        raise
    pool.shutdown()
    return [f.result() for f in futures]


# -- what the suite writes


def tap(outcomes: list) -> str:
    out = ["TAP version 13"]
    for i, o in enumerate(outcomes, 1):
        if o.verdict == "skip":
            out.append(f"ok {i} - {o.entry.name} # SKIP {o.detail}")
        else:
            out.append(f"{o.verdict} {i} - {o.entry.name}: {o.detail}")
        out += ["  ---", f"  kind: {o.entry.kind}",
                f"  status: {'~' if o.status is None else o.status}",
                f"  seconds: {o.seconds:.1f}", f"  log: {o.log}", "  ..."]
    out.append(f"1..{len(outcomes)}")
    return "\n".join(out) + "\n"


def junit(outcomes: list, logs: str) -> str:
    """One JUnit document: each pytest run's own test suites, and one suite of the guest
    runs, a test case each."""
    root = ET.Element("testsuites", name="tickguest suite")
    guests = [o for o in outcomes if o.entry.kind == "guest"]
    for o in outcomes:
        if o.entry.kind != "pytest":
            continue
        try:
            doc = ET.parse(os.path.join(logs, o.entry.name + ".xml")).getroot()
            found = [doc] if doc.tag == "testsuite" else list(doc.iter("testsuite"))
        except (OSError, ET.ParseError):
            found = []
        for s in found:
            s.set("name", o.entry.name)
            root.append(s)
        if not found:           # it died before writing any: the run is its one case
            guests.append(o)
    if guests:
        s = ET.SubElement(root, "testsuite", name="guest runs", tests=str(len(guests)),
                          failures=str(sum(o.verdict == "not ok" for o in guests)),
                          skipped=str(sum(o.verdict == "skip" for o in guests)),
                          time=f"{sum(o.seconds for o in guests):.3f}")
        for o in guests:
            case = ET.SubElement(s, "testcase", classname="suite", name=o.entry.name,
                                 time=f"{o.seconds:.3f}")
            if o.verdict == "not ok":
                ET.SubElement(case, "failure", message=o.detail).text = f"log: {o.log}"
            elif o.verdict == "skip":
                ET.SubElement(case, "skipped", message=o.detail)
    return ET.tostring(root, encoding="unicode") + "\n"


def records(outcomes: list, logs: str) -> list:
    """The run records of every guest the suite booted, its own and its pytest runs', for the
    HTML page; each names the suite run it came from."""
    out = []
    for o in outcomes:
        try:
            with open(os.path.join(logs, o.entry.name + ".json"), encoding="utf-8") as f:
                got = json.load(f)
        except (OSError, ValueError):
            continue
        for r in got if isinstance(got, list) else [got]:
            if o.entry.kind == "guest":
                r["name"] = o.entry.name
                r["host_check"] = {"test": f"suite run {o.entry.name}",
                                   "outcome": {"ok": "passed", "skip": "skipped"}.get(
                                       o.verdict, "failed"),
                                   "message": o.detail}
            else:
                r["name"] = f"{o.entry.name}: {r.get('name', '')}"
            out.append(r)
    return out


def summary(outcomes: list, seconds: float, logs: str) -> str:
    failed = sum(o.verdict == "not ok" for o in outcomes)
    skipped = sum(o.verdict == "skip" for o in outcomes)
    tests = {k: sum(o.counts.get(k, 0) for o in outcomes)
             for k in ("tests", "failures", "errors", "skipped")}
    line = (f"SUMMARY: {len(outcomes)} runs, {failed} failed, {skipped} skipped, in "
            f"{_duration(seconds)}")
    if tests["tests"]:
        passed = tests["tests"] - tests["failures"] - tests["errors"] - tests["skipped"]
        line += (f" (pytest: {passed} passed, {tests['failures'] + tests['errors']} failed, "
                 f"{tests['skipped']} skipped)")
    return line + f"; logs in {shown(logs)}/"


def shown(path: str) -> str:
    """A path as a person reads it: relative below the current folder, else whole."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _duration(s: float) -> str:
    return f"{int(s // 60)} min {int(s % 60)} s" if s >= 60 else f"{s:.1f} s"


def progress(done: int, total: int, o: Outcome, elapsed: float) -> str:
    """A line a run: where it stands, the verdict, and what is left (with the time it may
    take, from the runs so far)."""
    left = total - done
    eta = f", about {_duration(elapsed / done * left)}" if left and done else ""
    word = {"ok": "ok", "not ok": "FAIL", "skip": "skip"}[o.verdict]
    return (f"[{done:{len(str(total))}}/{total}] {word:4} {o.entry.name:28} "
            f"{o.seconds:6.1f} s  {o.detail}  ({left} left{eta})")


def failure_tail(o: Outcome, lines: int = 80) -> str:
    """What to show of a failed run's log: pytest's failures and summary, or the guest's
    failed checks and its last lines."""
    try:
        with open(o.log, encoding="utf-8", errors="replace") as f:
            text = f.read().splitlines()
    except OSError:
        return ""
    if o.entry.kind == "pytest":
        start = next((i for i, t in enumerate(text) if re.match(r"^=+ (FAILURES|ERRORS) =+$", t)),
                     max(0, len(text) - lines))
        shown = text[start:]
        if len(shown) > lines:
            shown = shown[:lines // 2] + ["..."] + shown[-lines // 2:]
    else:
        shown = [t for t in text if t.startswith("not ok ")][:20] + ["..."] + text[-10:]
    return "\n".join("    " + t for t in shown)
