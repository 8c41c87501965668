"""The `tickguest` command (scripts/tickguest): one verb per thing a user does with the guest.

    tickguest demo [--kernel ELF]
    tickguest run --kernel build/tickguest.elf --append 'hz=100 duration=10s' [-- QEMU ARGS]
    tickguest run --iso build/tickguest.iso [--uefi]
    tickguest run --append 'timer=pit' --deschedule 'pauses:every=1s,pause=300ms' --record R.json
    tickguest suite [-g GROUP] [-n NAME] [-j N] [--list] [--junit X] [--tap T] [--html H]
    tickguest judge LOG [--tap OUT] [--html OUT] [--name NAME]
    tickguest iso -o OUT.iso [--kernel ELF] [--cmdline 'hz=100 ...']
    tickguest profile [-o FILE] [--machine q35] [--bochs ...]      (scripts/timer-profile)
    tickguest bench devices|timekeeping|linux-peer [ARGS]           (scripts/bench-*)

Every verb exits with the guest's own status (docs/exit-status.md): 0 passed, 1 failed, 2 bad
configuration, 3 panic, 4 device failed, 77 all skipped; 124 and 125 are the host's timeout
and no-verdict cases, and a usage error is 125 too, never argparse's 2, which a caller would
take for the guest's "bad configuration".  `tickguest VERB --help` says the rest.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys

from . import plan
from .deschedule import PauseThreadError
from .machine import OVMF_PATHS, kvm_available, ovmf_path
from .qemu import Guest
from .status import STATUS_NO_VERDICT


_REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.realpath(__file__)), ".."))
_DEFAULT_KERNEL = os.path.join(_REPO, "build", "tickguest.elf")


class _Parser(argparse.ArgumentParser):
    """Usage errors exit 125 (see the module's docstring)."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(STATUS_NO_VERDICT, f"{self.prog}: error: {message}\n")


# --kernel and --logs of the verbs that have a default for them: the default and the help's
# word for it come from one place, so they cannot drift apart.

def _kernel_option(p, what: str = "the kernel") -> None:
    p.add_argument("--kernel", default=_DEFAULT_KERNEL, metavar="ELF",
                   help=f"{what} (default: build/tickguest.elf)")


def _logs_option(p, what: str) -> None:
    p.add_argument("--logs", default=os.path.join(_REPO, "build", "logs"), metavar="DIR",
                   help=f"{what} (default: build/logs)")


def _parser(prog: str) -> argparse.ArgumentParser:
    p = _Parser(prog=prog, description=__doc__.split("\n\n")[0])
    verbs = p.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    verbs.required = True

    demo = verbs.add_parser(
        "demo", help="the point in one table: a descheduled VM, with and without the sponge",
        description="Boot the guest twice under QEMU with the RTC catching up (slew mode), "
                    "stopping QEMU 300 ms of every second, once with the sponge off and once "
                    "on, and print side by side the stolen time and how much of it each "
                    "accounting method charged to the workload (tickguest/demo.py).  The full "
                    "reports go to --logs.")
    _kernel_option(demo)
    _logs_option(demo, "where the reports go")
    demo.add_argument("--accel", default="tcg", help="tcg or kvm (default: %(default)s)")

    run = verbs.add_parser(
        "run", help="boot one configuration under QEMU, show the report live",
        description="Boot tickguest under QEMU, show its serial report live, exit with the "
                    "guest's status.  QEMU runs through tickguest/qemu.py, which kills it "
                    "however this ends.",
        epilog="Arguments after -- go to QEMU as they are.")
    what = run.add_argument_group("what to boot (one of)").add_mutually_exclusive_group(
        required=True)
    what.add_argument("--kernel", metavar="PATH", help="multiboot ELF, booted with -kernel")
    what.add_argument("--iso", metavar="PATH", help="GRUB ISO, booted with -cdrom")
    run.add_argument("--append", metavar="CMDLINE", default="",
                     help="kernel command line (--kernel only; an ISO's is in grub.cfg)")
    run.add_argument("--machine", default="pc", help="QEMU machine type (default: %(default)s)")
    run.add_argument("--accel", default="tcg", help="tcg or kvm (default: %(default)s)")
    run.add_argument("--uefi", action="store_true",
                     help="boot the ISO on UEFI firmware (OVMF, Debian's ovmf) instead of "
                          "QEMU's BIOS")
    run.add_argument("--timeout", type=float, metavar="SECONDS",
                     help="kill QEMU after this long (default: from the run's duration=)")
    run.add_argument("--qemu", metavar="PATH",
                     help="the QEMU binary (default: $QEMU, else qemu-system-x86_64)")
    run.add_argument("--deschedule", metavar="PLAN", default="none",
                     help="take the CPU from the guest while it runs: none, "
                          "pauses:every=1s,pause=300ms, random:seed=7,pause=100ms,gap=400ms, "
                          "once:at=2s,pause=1500ms, cap:quota=20ms,period=50ms, contention "
                          "(tickguest/plan.py has every figure; default: %(default)s)")
    run.add_argument("--log", metavar="FILE",
                     help="also write the whole serial output to FILE (QEMU's command first)")
    run.add_argument("--record", metavar="FILE",
                     help="write the run's record for the HTML page to FILE (JSON; "
                          "tickguest/report_html.py)")
    run.add_argument("--quiet", action="store_true",
                     help="do not show the report live (with --log: the suite's way)")

    judge = verbs.add_parser(
        "judge", help="a serial log captured on any hypervisor: verdict, TAP file, HTML page",
        description="Read a serial log captured from COM1 on any hypervisor (VMware, "
                    "VirtualBox, Hyper-V, Bochs, QEMU's -serial file:), print the guest's "
                    "verdict and exit with its status; write the report as a clean TAP file "
                    "and as the HTML page (tickguest/judge.py says how the log is read).")
    judge.add_argument("log", metavar="LOG", help="the captured serial log")
    judge.add_argument("--tap", metavar="OUT", help="the TAP file to write (default: LOG.tap)")
    judge.add_argument("--html", metavar="OUT",
                       help="the HTML page to write (default: LOG.html; needs Debian's "
                            "python3-matplotlib)")
    judge.add_argument("--name", help="what the run is called on the page (default: LOG's name)")
    suite = verbs.add_parser(
        "suite", help="the named runs of the catalogue, or some of its groups",
        description="Run the named configurations of the catalogue (tests/suite.cfg; "
                    "tickguest/suite.py says what an entry holds): each to a log under "
                    "--logs, a progress line as each ends, then a JUnit XML, TAP and HTML "
                    "report of them all and a SUMMARY line.  Exits 0 when none failed, 1 "
                    "when one did, 125 for a bad catalogue or selection.",
        epilog="make test is -g test, make conformance is -g conformance.")
    suite.add_argument("-g", "--group", action="append", default=[], metavar="GROUP",
                       help="run the entries of GROUP (again for more groups; default: all)")
    suite.add_argument("-n", "--name", action="append", default=[], metavar="NAME",
                       help="run the entry NAME too (again for more)")
    suite.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                       help="N runs at a time (default 1: timing runs measure better alone)")
    suite.add_argument("-l", "--list", action="store_true",
                       help="list the entries that would run, and their groups, and stop")
    suite.add_argument("--catalogue", default=os.path.join(_REPO, "tests", "suite.cfg"),
                       metavar="FILE", help="the catalogue (default: tests/suite.cfg)")
    _kernel_option(suite, "the kernel the guest runs boot")
    suite.add_argument("--iso", default=os.path.join(_REPO, "build", "tickguest.iso"),
                       metavar="ISO", help="the ISO of iso = yes runs (default: "
                                           "build/tickguest.iso)")
    _logs_option(suite, "where each run's log goes")
    suite.add_argument("--junit", metavar="FILE", help="the JUnit XML (default: LOGS/suite.xml)")
    suite.add_argument("--tap", metavar="FILE", help="the TAP file (default: LOGS/suite.tap)")
    suite.add_argument("--html", metavar="FILE",
                       help="the HTML page of every guest run (default: LOGS/suite.html; "
                            "needs Debian's python3-matplotlib)")

    iso = verbs.add_parser(
        "iso", help="an ISO that boots a command line of yours, on BIOS or UEFI",
        description="Build a GRUB ISO (BIOS and UEFI, Multiboot2, serial console on COM1) "
                    "whose one menu entry boots the kernel with the command line given: for "
                    "a VM on another hypervisor, where nothing can type one in.")
    iso.add_argument("-o", "--output", required=True, metavar="OUT.iso", help="the ISO to write")
    _kernel_option(iso)
    iso.add_argument("--cmdline", default="", metavar="CMDLINE",
                     help="the kernel's command line (docs/cmdline.md; default: none)")
    # The figures' verbs hand their arguments, --help included, to the scripts they run.
    verbs.add_parser(
        "profile", add_help=False,
        help="a platform's timer profile, one Markdown page (scripts/timer-profile; its "
             "--help says the rest)")
    verbs.add_parser(
        "bench", add_help=False,
        help="figures, not verdicts: bench devices|timekeeping|linux-peer [ARGS] "
             "(scripts/bench-*; each one's --help says the rest)")
    p.verbs = {"demo": demo, "run": run, "suite": suite, "judge": judge, "iso": iso}
    return p


_SCRIPTS = {"profile": "timer-profile", "devices": "bench-devices",
            "timekeeping": "bench-timekeeping", "linux-peer": "bench-linux-peer"}


def figures(argv: list, prog: str) -> int:
    """tickguest profile ARGS and tickguest bench WHICH ARGS: the script's own status."""
    verb, rest = argv[0], list(argv[1:])
    which = verb
    if verb == "bench":
        if not rest or rest[0] not in _SCRIPTS or rest[0] == "profile":
            print(f"usage: {prog} bench devices|timekeeping|linux-peer [ARGS]", file=sys.stderr)
            return 0 if rest and rest[0] in ("-h", "--help") else STATUS_NO_VERDICT
        which = rest.pop(0)
    script = os.path.join(_REPO, "scripts", _SCRIPTS[which])
    return subprocess.call([sys.executable, script] + rest)


def _split(argv: list) -> tuple:
    if "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1:]
    return argv, []


def parse_args(argv: list, prog: str = "tickguest"):
    ours, extra = _split(list(argv))
    p = _parser(prog)
    args = p.parse_args(ours)
    sub = p.verbs[args.verb]
    if args.verb == "run":
        if args.iso and args.append:
            sub.error("--append needs --kernel: an ISO boots GRUB's menu entry")
        if args.uefi and not args.iso:
            sub.error("--uefi needs --iso: OVMF cannot start a -kernel image")
        if args.uefi and ovmf_path() is None:
            sub.error("--uefi: no OVMF firmware in " + ", ".join(OVMF_PATHS) +
                      " (scripts/install-deps installs Debian's ovmf)")
        try:
            args.plan = plan.parse(args.deschedule)
        except ValueError as e:
            sub.error(f"--deschedule: {e}")
    elif extra:
        sub.error(f"'--' and QEMU arguments are for run, not {args.verb}")
    if args.verb == "suite" and args.jobs < 1:
        sub.error("-j takes a number of runs at a time, 1 or more")
    return args, extra


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def _catch_stops() -> None:
    """QEMU has its own session, so the terminal's Ctrl-C reaches only us; the other ways of
    being stopped become the same exception, so the Guest's cleanup runs for them too."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_interrupt)


# What the verbs say goes to stderr as "PROG: message", leaving stdout to the guest's report
# and the tables; these keep that form, and the statuses that go with it, in one place.

def _say(prog: str, message) -> None:
    # flush as the live lines had it; stderr is line-buffered, so elsewhere it changes nothing
    print(f"{prog}: {message}", file=sys.stderr, flush=True)


def _no_verdict(prog: str, why) -> int:
    """Say why a verb gives up before any verdict, and the status it gives up with."""
    _say(prog, why)
    return STATUS_NO_VERDICT


def _interrupted(prog: str, what: str = "QEMU killed") -> int:
    _say(prog, f"interrupted; {what}")
    return 130


def _guest_status(prog: str, r) -> int:
    """Say the guest's status (r: a Result, or a judged log) and return it."""
    _say(prog, f"guest status {r.status} ({r.status_name})")
    return r.status


def _html_page(prog: str, records: list, out: str, **page) -> bool:
    """Draw records as the HTML page out.  Only the drawing needs matplotlib: without it, say
    so and return False, and the verb's other outputs stand."""
    from . import report_html
    try:
        report_html.render(records, out, **page)
    except ImportError:
        _say(prog, "no HTML page: matplotlib is not installed (scripts/install-deps installs "
                   "python3-matplotlib)")
        return False
    return True


def run(args, extra, prog: str) -> int:
    _catch_stops()
    if "kvm" in args.accel.split(":"):
        ok, why = kvm_available()
        if not ok:
            _say(prog, f"KVM is not usable ({why}); try --accel tcg")

    why = args.plan.unavailable()
    if why:
        return _no_verdict(prog, f"cannot deschedule with {args.plan.describe()}: {why}")

    def show(t, text):
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    guest = Guest(kernel=args.kernel, iso=args.iso, cmdline=args.append,
                  machine=args.machine, accel=args.accel, extra_args=extra,
                  timeout=args.timeout, on_line=None if args.quiet else show,
                  qemu=args.qemu, qmp=args.plan.needs_qmp,
                  firmware="uefi" if args.uefi else "bios")
    if args.plan.kind != "none":
        _say(prog, f"descheduling: {args.plan.describe()}")
    try:
        with guest:
            args.plan.apply(guest)
            result = guest.wait()
    except KeyboardInterrupt:
        return _interrupted(prog)
    except PauseThreadError as e:       # the plan failed: the run proves nothing
        return _no_verdict(prog, f"descheduling failed: {e.__cause__ or e}")
    if args.log:
        with open(args.log, "w", encoding="utf-8") as f:
            f.write(" ".join(result.argv) + "\n\n" + result.raw)
    if args.record:
        from .report_html import record_from
        method, bands = plan.shown(args.plan, guest)
        record = record_from(result, bands, os.path.basename(args.record).rsplit(".", 1)[0],
                             method)
        with open(args.record, "w", encoding="utf-8") as f:
            json.dump(record, f)
    if result.stderr.strip():
        sys.stderr.write(result.stderr.rstrip("\n") + "\n")
    if result.timed_out:
        _say(prog, f"no verdict after {guest.timeout:g} s; QEMU killed")
    return _guest_status(prog, result)


def judge(args, prog: str) -> int:
    from . import judge as judging

    try:
        with open(args.log, "rb") as f:
            data = f.read()
    except OSError as e:
        return _no_verdict(prog, e)
    j = judging.judge(data)
    tap_out = args.tap or args.log + ".tap"
    html_out = args.html or args.log + ".html"
    if j.lines:
        with open(tap_out, "w", encoding="utf-8", newline="\n") as f:
            f.write(j.tap_text())
        _say(prog, f"{len(j.tap.tests)} checks, {len(j.tap.failed())} not ok, "
                   f"{sum(t.directive == 'SKIP' for t in j.tap.tests)} skipped; "
                   f"{j.noise} lines before the report dropped; TAP -> {tap_out}")
        if _html_page(prog, [j.record(args.name or os.path.basename(args.log))], html_out):
            _say(prog, f"HTML -> {html_out}")
    for problem in j.problems:
        _say(prog, problem)
    return _guest_status(prog, j)


def suite(args, prog: str) -> int:
    import time

    from . import suite as suites
    from .report_html import about_host

    try:
        cat = suites.load(args.catalogue)
        entries = cat.select(args.group, args.name)
    except ValueError as e:
        return _no_verdict(prog, e)
    if args.list:
        for e in entries:
            what = " ".join(e.pytest) if e.pytest else e.cmdline or "(the ISO's menu entry)"
            print(f"{e.name:28} {e.kind:6} {' '.join(e.groups):30} {what}")
        return 0
    needs = {args.kernel for e in entries if e.kind == "guest" and not e.iso}
    needs |= {args.iso for e in entries if e.kind == "guest" and e.iso}
    missing = [p for p in sorted(needs) if not os.path.isfile(p)]
    if missing:
        return _no_verdict(prog, f"{', '.join(missing)}: not built (run make)")
    _catch_stops()
    start = time.monotonic()
    print(f"{prog}: {len(entries)} runs from {suites.shown(cat.path)}"
          f"{' (groups ' + ', '.join(args.group) + ')' if args.group else ''}, "
          f"{args.jobs} at a time; logs in {suites.shown(args.logs)}/", flush=True)

    def report(done, total, o):
        print(suites.progress(done, total, o, time.monotonic() - start), flush=True)
        if o.verdict == "not ok":
            print(suites.failure_tail(o), flush=True)

    try:
        outcomes = suites.run(cat, entries, args.group, args.logs, args.kernel, args.iso,
                              args.jobs, report)
    except KeyboardInterrupt:
        return _interrupted(prog, "the runs under way were stopped")
    outputs = {"junit": args.junit or os.path.join(args.logs, "suite.xml"),
               "tap": args.tap or os.path.join(args.logs, "suite.tap"),
               "html": args.html or os.path.join(args.logs, "suite.html")}
    for key in ("junit", "tap"):
        os.makedirs(os.path.dirname(os.path.abspath(outputs[key])), exist_ok=True)
        with open(outputs[key], "w", encoding="utf-8") as f:
            f.write(suites.junit(outcomes, args.logs) if key == "junit" else suites.tap(outcomes))
    records = suites.records(outcomes, args.logs)
    if not records or not _html_page(prog, records, outputs["html"], title="tickguest suite",
                                     about=about_host(records)):
        outputs.pop("html")             # no guest run to draw, or no matplotlib to draw it
    print(f"{prog}: " + ", ".join(f"{k} -> {suites.shown(v)}" for k, v in outputs.items()))
    print(suites.summary(outcomes, time.monotonic() - start, args.logs), flush=True)
    return 1 if any(o.verdict == "not ok" for o in outcomes) else 0


def make_iso(args, prog: str) -> int:
    import tempfile

    from . import isos

    if not os.path.isfile(args.kernel):
        return _no_verdict(prog, f"{args.kernel}: no such kernel (run make)")
    try:
        with tempfile.TemporaryDirectory(prefix="tickguest-iso-") as work:
            shutil.copy(isos.make_iso(args.kernel, args.cmdline, work), args.output)
    except (ValueError, RuntimeError, OSError) as e:
        return _no_verdict(prog, e)
    _say(prog, f"{args.output} boots: {args.cmdline or '(no command line)'}")
    return 0


def demo(args, prog: str) -> int:
    from . import demo as demos

    if not os.path.isfile(args.kernel):
        return _no_verdict(prog, f"{args.kernel}: no such kernel (run make)")
    _catch_stops()
    os.makedirs(args.logs, exist_ok=True)
    runs = []
    try:
        for sponge, label in demos.SPONGES:
            _say(prog, f"booting with {label} ({demos.DURATION_S} s of run, "
                       f"{len(runs) + 1} of {len(demos.SPONGES)})")
            runs.append(demos.run_one(args.kernel, sponge, label, args.logs, accel=args.accel))
    except KeyboardInterrupt:
        return _interrupted(prog)
    print(demos.table(runs))
    return demos.status_of(runs)


def main(argv: list, prog: str = "tickguest") -> int:
    if argv and argv[0] in ("profile", "bench"):
        return figures(argv, prog)
    args, extra = parse_args(argv, prog)
    if args.verb == "demo":
        return demo(args, prog)
    if args.verb == "run":
        return run(args, extra, prog)
    if args.verb == "iso":
        return make_iso(args, prog)
    if args.verb == "suite":
        return suite(args, prog)
    return judge(args, prog)
