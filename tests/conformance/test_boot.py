"""Boot the real kernel and hold its serial report to the contract (docs/report.md,
docs/exit-status.md).  Written against the contract, not the code: they fail until the kernel
does what the docs say.
"""

import re
import shutil
import subprocess

import pytest

import tickguest as tg
from tickguest import report_lines as lines

pytestmark = pytest.mark.conformance

def assert_report(r, status):
    """The run ended with status and its report holds together; else say all about the run."""
    assert r.status == status, f"expected status {status}\n{r.summary()}"
    problems = tg.check_consistent(r)
    assert not problems, "\n".join(problems) + "\n" + r.summary()


def descriptions(r):
    return [t.description for t in r.tap.tests]


def test_default_run(default_run):
    r = default_run
    assert_report(r, 0)
    tap = r.tap
    assert any(c.startswith("tickguest") for c in tap.header_comments), tap.header_comments
    for key in ("cmdline", "cpu", "tsc"):
        assert key in tap.banner, f"banner has no {key!r}: {tap.banner}"
    for prefix in ("TSC calibration", "pit ticks"):
        assert not tap.test(prefix).failed, tap.test(prefix).line
    tasks = [t for t in tap.tests if t.description.startswith("task ")]
    assert tasks, f"no task checks in {descriptions(r)}"
    # plain sampling may be not judged (a loaded host steals in slices under a tick, which it
    # cannot tell); steal-aware sampling, the method tickguest recommends, holds
    assert [t.line for t in tasks if t.failed] == []
    aware = lines.tasks(r, lines.STEAL_AWARE)
    assert aware and all(t.ok and t.directive is None for t in aware.values()), \
        [t.line for t in aware.values()]


SHARE_CMDLINE = "hz=100 duration=10s task=a:spin:2 task=b:spin:1"


@pytest.fixture(scope="module")
def share_run(boot):
    return boot(SHARE_CMDLINE)


def test_share_run_passes(share_run):
    assert_report(share_run, 0)


@pytest.mark.parametrize("task, expected_pct", [("a", 200 / 3), ("b", 100 / 3)])
def test_weighted_share(share_run, task, expected_pct):
    """Two always-runnable spinners with weights 2:1 get 2/3 and 1/3 of the CPU.

    Of the spinners' exact (TSC) time, that is, which is how the scheduler shares the CPU:
    quanta are counted in ticks, and ticks keep the host's time.  Not of their true time: a
    loaded host takes a share of the run from the VM, the guest sees it as stolen, and it
    falls on whichever task ran, so each task's true share of the run shrinks with the load
    (52 % and 27 % in one run on a busy host) and their ratio wanders with where the steal
    fell.  The sampling checks are against the true share, with its binomial interval; the
    one of steal-aware sampling must hold however loaded the host is."""
    tap = share_run.tap

    t = lines.tasks(share_run, lines.STEAL_AWARE)[task]
    assert t.ok and t.directive is None, t.line
    y = t.yaml or {}
    for key in ("steal_aware_share_pct", "interval_lo_pct", "interval_hi_pct", "allowance_pct"):
        assert key in y, f"{t.line}: YAML has no {key}: {y}"
    allowance = float(y["allowance_pct"])
    assert float(y["interval_lo_pct"]) - allowance <= float(y["steal_aware_share_pct"]) \
        <= float(y["interval_hi_pct"]) + allowance, y
    y = lines.tasks(share_run)[task].yaml

    s = tap.test(f"spinner {task}:")
    assert s.ok and s.directive is None, s.line
    ys = s.yaml or {}
    for key in ("expected_pct", "exact_pct", "tolerance_pp"):
        assert key in ys, f"{s.line}: YAML has no {key}: {ys}"
    assert float(ys["expected_pct"]) == pytest.approx(expected_pct, abs=0.05), ys
    assert abs(float(ys["exact_pct"]) - float(ys["expected_pct"])) <= float(ys["tolerance_pp"]), ys
    # the guest's share, from its own exact figures (printed to the microsecond)
    spinners_exact = sum(float(lines.tasks(share_run)[n].yaml["exact_ms"]) for n in ("a", "b"))
    assert 100 * float(y["exact_ms"]) / spinners_exact == \
        pytest.approx(float(ys["exact_pct"]), abs=0.001), (y, ys)


@pytest.mark.parametrize("cmdline, key", [
    ("hz=abc", "hz"),
    ("bogus=1", "bogus"),
    ("hz=5", "hz"),                 # below the PIT's slowest rate
    ("duration=10", "duration"),    # no unit
    ("task=x:blink", "task"),       # no such task kind
])
def test_bad_configuration(boot, cmdline, key):
    r = boot(cmdline)
    assert_report(r, 2)
    tap = r.tap
    assert len(tap.bail_outs) == 1, tap.bail_outs
    assert key in tap.bail_out, f"Bail out! does not name {key!r}: {tap.bail_out!r}"
    assert tap.exit_line == ("bad configuration", 2)
    # refused before any device was programmed or any task ran
    assert tap.tests == [], [t.line for t in tap.tests]
    assert "tick source" not in tap.banner, tap.banner
    assert not any(c.startswith("running ") for c in tap.comments), tap.comments


_CR2_RE = re.compile(r"\bCR2\b\s*[:=]?\s*(0x[0-9a-fA-F]+)", re.IGNORECASE)


@pytest.mark.parametrize("fault, name", [
    ("ud", "invalid opcode"),
    ("de", "divide error"),
    ("pf", "page fault"),
    ("gp", "general protection"),
    ("stack", "double fault"),
])
def test_panic(boot, fault, name):
    r = boot(f"fault={fault}")
    assert_report(r, 3)
    tap = r.tap
    assert len(tap.bail_outs) == 1, tap.bail_outs
    assert name in tap.bail_out.lower(), f"Bail out! does not name {name!r}: {tap.bail_out!r}"
    assert tap.exit_line == ("panic", 3)
    dump = "\n".join(tap.comments)
    assert re.search(r"\bEIP\b", dump, re.IGNORECASE), f"no EIP in the dump:\n{dump}"
    cr2 = _CR2_RE.search(dump)
    assert cr2, f"no CR2 in the dump:\n{dump}"
    if fault == "pf":
        assert cr2.group(1).lower() == "0x00000000", f"a null read faults at 0: {cr2.group(0)}"
    assert any("backtrace" in c.lower() for c in tap.comments), f"no backtrace:\n{dump}"
    if fault == "stack":
        # the overflow is named, with the stack it overflowed: kmain's, where fault= runs
        assert "stack overflow of the boot code" in tap.bail_out, tap.bail_out


def test_watchdog_ends_a_run_whose_tick_is_silent(boot):
    """fault=tick masks the tick's line once it runs: the run would end at a tick that never
    comes, so the watchdog must end it, in seconds, with status 4 and the device named."""
    r = boot("fault=tick")
    assert_report(r, 4)
    assert r.tap.bail_out.startswith("watchdog: the pit tick source gave no tick in"), \
        r.summary()
    assert r.duration < 30, r.summary()


def test_triple_fault_is_no_verdict(boot):
    """An IDT of limit 0 leaves the CPU no gate to reach, so it shuts down: QEMU (-no-reboot)
    exits with no `# exit:` line, and the harness calls that "no verdict", not a pass."""
    r = boot("fault=triple")
    assert r.status == tg.STATUS_NO_VERDICT, r.summary()
    assert r.tap.exit_line is None and r.tap.bail_outs == [], r.summary()
    assert any("provoking triple" in c for c in r.tap.comments), r.summary()


def test_iso_boot_matches_elf(iso, default_run):
    """GRUB's default entry boots the default command line, so the report has the same checks
    and the same verdict as the ELF booted directly.  GRUB boots it by Multiboot2, and hands
    over the RSDP, which the guest takes before its own search of the BIOS area: the same
    tables all the same."""
    r = tg.run(iso=iso, accel="tcg", timeout=tg.timeout_for(iso=True))
    assert_report(r, default_run.status)
    acpi, elf_acpi = r.tap.banner["acpi"], default_run.tap.banner["acpi"]
    assert "from the loader's ACPI 1.0 RSDP tag" in acpi, acpi
    assert "from the BIOS area" in elf_acpi, elf_acpi
    assert acpi.split("tables:")[1] == elf_acpi.split("tables:")[1], (acpi, elf_acpi)
    assert sorted(descriptions(r)) == sorted(descriptions(default_run))


@pytest.mark.parametrize("machine", ["pc", "q35"])
def test_acpi_poweroff_without_debug_exit(kernel, machine):
    """Where there is no isa-debug-exit device (as on VMware) the guest prints its verdict and
    powers off through ACPI S5, so QEMU ends by itself, with its own status 0."""
    r = tg.run(kernel=kernel, cmdline="duration=1s", machine=machine, debug_exit=False,
                    timeout=tg.timeout_for(1))
    assert not r.timed_out, f"the guest did not power off\n{r.summary()}"
    assert r.qemu_rc == 0, r.summary()
    assert r.tap.exit_line == ("passed", 0), r.summary()
    assert any("powering off through ACPI" in c for c in r.tap.comments), r.summary()


def test_no_acpi_halts_with_a_message(kernel):
    """Without ACPI and without the debug-exit device nothing can end the VM: the guest says so
    and halts, rather than hanging silently."""
    with tg.Guest(kernel=kernel, cmdline="duration=1s", debug_exit=False,
                       extra_args=["-no-acpi"], timeout=tg.timeout_for(1)) as g:
        hit = g.wait_for_line(r"halting with interrupts off", tg.timeout_for(1))
        lines = [text for _, text in g.lines]
    assert hit, "\n".join(lines[-20:])
    assert any(t.startswith("# acpi: none") for t in lines), lines
    assert "# exit: passed (status 0)" in lines, lines


def test_no_acpi_still_runs(boot):
    """-no-acpi removes the tables, not the PIT and the 8259s: the run still passes and the
    banner says what was not found."""
    r = boot("duration=1s", extra_args=["-no-acpi"])
    assert_report(r, 0)
    assert r.tap.banner.get("acpi", "").startswith("none"), r.tap.banner


def test_serial_log_feeds_prove(default_run, tmp_path):
    """The captured serial log, exactly as it came off the port (CR LF included), is TAP that a
    stock consumer accepts: Perl's prove, which Debian ships with perl."""
    prove = shutil.which("prove")
    if prove is None:
        pytest.skip("prove is not installed (Debian package perl)")
    log = tmp_path / "serial.tap"
    log.write_text(default_run.raw, newline="")
    out = subprocess.run([prove, "-e", "cat", str(log)], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Result: PASS" in out.stdout, out.stdout


# A fixed RTC base too: with clock=vm the RTC still starts from the host's date.


def test_icount_runs_are_identical(boot):
    """Under -icount with sleep=off every clock derives from the instruction count, so two runs
    of the same command line must print the same report, figure for figure; any difference is
    a dependence on host time that the deterministic mode is meant to rule out."""
    cmdline = "duration=500ms"
    # icount costs TCG its fast paths: about 10 s of host time per second of guest time
    timeout = 10 * tg.timeout_for(tg.cmdline_duration_s(cmdline))
    first = boot(cmdline, extra_args=tg.ICOUNT_ARGS, timeout=timeout)
    second = boot(cmdline, extra_args=tg.ICOUNT_ARGS, timeout=timeout)
    assert_report(first, 0)
    assert [t for _, t in first.lines] == [t for _, t in second.lines]
    # Virtual time is exact here, so only the measurement's own resolution is left: the TSC
    # (1 GHz of virtual time) is found within one window's error bound, half the pair bound,
    # and the PIT rate measured with it is off by no more than that, plus 1 ppm of rounding.
    cal = first.tap.test("TSC calibration").yaml
    window_ppm = cal["bound_ppm"] / 2
    assert abs(cal["tsc_hz"] - 1_000_000_000) / 1e3 <= window_ppm, cal
    assert abs(first.tap.test("pit ticks").yaml["error_ppm"]) <= window_ppm + 1
