"""The timer device suite across machine types, and every tick source driving the accounting
run.  A device the machine lacks must be skipped with the true reason; anything else must
pass, or be not judged because the host took the CPU in every window the check had
(checks/window.h): a robbed window says nothing about the device, and the guest says how much
was stolen."""

import re

import pytest

import tickguest as tg
from tickguest import report_lines as lines

pytestmark = pytest.mark.conformance

# The device checks every PC that QEMU models should pass, by description prefix.
DEVICE_CHECKS = ("TSC calibration", "tsc never goes backwards", "pmtimer never goes backwards",
                 "rtc periodic interrupt at", "rtc update-ended interrupts",
                 "rtc time of day advances", "rtc alarm interrupt", "lapic timer divide by",
                 "lapic timer clock measured by the pmtimer agrees", "lapic one-shot",
                 "ioapic routes the PIT", "an ioapic interrupt pending as the 8259 takes over",
                 "pit channel 0 mode 2 ticks", "pit channel 0 mode 3 ticks",
                 "pit channel 0 mode 0 one-shot", "pit read-back status",
                 "pit one-shot through the tick-source interface",
                 "lapic one-shot through the tick-source interface")


LAPIC_DIVIDERS = (1, 2, 4, 8, 16, 32, 64, 128)
# Every periodic rate check carries these (scripts/bench-devices lists them).
RATE_KEYS = {"programmed_hz", "measured_hz", "error_ppm", "bound_ppm"}


def lapic_periodic_checks(r):
    """The local APIC timer's periodic checks by divider and reference: {(d, "tsc"): test, ...}."""
    found = {}
    for t in r.tap.tests:
        m = re.match(r"lapic timer divide by (\d+): .*, measured by the (.+)$", t.description)
        if m:
            key = (int(m.group(1)), m.group(2))
            assert key not in found, t.line
            found[key] = t
    return found


def run(kernel, cmdline, machine="pc", extra=()):
    return tg.run(kernel=kernel, cmdline=cmdline, machine=machine, accel="tcg",
                       extra_args=list(extra),
                       timeout=tg.timeout_for(tg.cmdline_duration_s(cmdline)))


def held_or_not_judged(t) -> bool:
    """The check passed, or was not judged because every window it had was robbed, which its
    reason says, with the window's figures in its YAML.  Under -icount no window can be robbed
    (the TSC follows the instructions), so the tests there ask for ok alone."""
    if t.directive == "SKIP":
        return t.reason.startswith("not judged:") and t.yaml is not None and \
            ("window_longest_step_ms" in t.yaml or "robbed_shots" in t.yaml or
             "window0_err_ppm" in t.yaml)
    return t.ok and t.directive is None


def assert_passed(r):
    assert r.status == 0, r.summary()
    assert tg.check_consistent(r) == [], r.summary()


@pytest.mark.parametrize("machine, extra", [("pc", ()), ("q35", ()), ("pc", ("-no-hpet",))],
                         ids=["pc", "q35", "pc-no-hpet"])
def test_device_suite(device_suite, machine, extra):
    assert_device_suite(device_suite(machine, extra))


def assert_device_suite(r):
    """What every PC QEMU models must show in the device suite (test_uefi holds a UEFI boot to
    it as well)."""
    assert_passed(r)
    for prefix in DEVICE_CHECKS:
        found = [t for t in r.tap.tests if t.description.startswith(prefix)]
        assert found, f"no check {prefix!r}\n{r.summary()}"
        assert all(held_or_not_judged(t) for t in found), [t.line for t in found]
    # no workload ran
    assert not any(t.description.startswith("task ") for t in r.tap.tests)
    # every divider timed twice, by the TSC and by the PM timer (every machine here has one),
    # with the rate figures and a rate error inside the bound
    lapic = lapic_periodic_checks(r)
    assert sorted(lapic) == sorted((d, ref) for d in LAPIC_DIVIDERS for ref in ("tsc", "pmtimer")), \
        sorted(lapic)
    for t in lapic.values():
        assert RATE_KEYS <= t.yaml.keys(), (t.line, t.yaml)
        if t.directive is None:
            assert abs(t.yaml["error_ppm"]) <= t.yaml["bound_ppm"], (t.line, t.yaml)
    # TSC-deadline mode is absent under TCG: skipped, saying why
    deadline = r.tap.test("lapic TSC-deadline")
    assert deadline.directive == "SKIP" and "CPUID" in deadline.reason, deadline.line


@pytest.mark.parametrize("timer, irq", [("pit", ""), ("rtc", ""), ("lapic", ""), ("hpet", ""),
                                        ("pit", "pic"), ("rtc", "pic"), ("hpet", "pic")])
def test_every_tick_source_drives_the_accounting(kernel, timer, irq):
    cmdline = f"suite=accounting timer={timer} duration=2s" + (f" irq={irq}" if irq else "")
    r = run(kernel, cmdline)
    assert_passed(r)
    assert r.tap.banner["tick source"].startswith(("local APIC" if timer == "lapic" else timer)), \
        r.tap.banner
    assert r.tap.banner["irq routing"].startswith("8259" if irq == "pic" else "IOAPIC"), \
        r.tap.banner
    tick = r.tap.test(f"{timer} ticks at the programmed rate")
    assert tick.ok, tick.line
    for t in r.tap.tests:
        if t.description.startswith(("task ", "spinner ")):
            assert not t.failed, t.line
    assert all(t.ok for t in lines.tasks(r, lines.STEAL_AWARE).values()), r.summary()


# The RTC's periodic rates: rate select 3 to 15 of register A (MC146818), 8192 Hz down to 2 Hz.
RTC_RATES_HZ = [32768 >> (rs - 1) for rs in range(3, 16)]


# Deterministic mode at three speeds: 4, 16 and 64 ns an instruction (tg.icount_args).
@pytest.mark.parametrize("shift", [2, 4, 6])
def test_device_interrupt_counts_are_exact_under_icount(kernel, shift):
    """Under -icount no tick is ever late, so none is merged: every periodic check's raw
    interrupt count over its window must be exactly what the window holds (100 Hz over 50
    periods: 50), for the PIT in modes 2 and 3 and for the RTC's periodic interrupt; the HPET's
    periods, counted deadline to deadline, are those of its window."""
    r = tg.run(kernel=kernel, cmdline="suite=devices", machine="pc", accel="tcg",
                    extra_args=tg.icount_args(shift), timeout=10 * tg.timeout_for())
    assert_passed(r)
    pit = {}
    for t in r.tap.tests:
        if t.description.startswith(("pit channel 0 mode 2 ticks", "pit channel 0 mode 3 ticks")):
            y = t.yaml
            # the window's own figure: N periods after the first interrupt
            assert y["interrupts"] == y["expected_interrupts"] == y["window_periods"], t.line
            assert y["lost_ticks"] == 0 and y["periods_measured"] == y["interrupts"], (t.line, y)
            pit.setdefault(y["divisor"], []).append(t)
    # both references for every run: the TSC and the PM timer
    modes = {t.description.split(" ticks")[0] for v in pit.values() for t in v}
    assert len(modes) == 2 and pit and all(len(v) == 2 for v in pit.values()), pit
    rtc = [t for t in r.tap.tests if t.description.startswith("rtc periodic interrupt at")]
    # both references for every rate, as for the PIT
    for ref in ("tsc", "pmtimer"):
        by = [t for t in rtc if t.description.endswith(f"measured by the {ref}")]
        assert sorted(t.yaml["programmed_hz"] for t in by) == sorted(RTC_RATES_HZ), rtc
    for t in rtc:
        y = t.yaml
        # the rate times the window it reports (whole ms under -icount)
        assert y["interrupts"] == y["expected_interrupts"] == \
            round(y["programmed_hz"] * y["window_ms"] / 1000), (t.line, y)
    # the local APIC timer: every divider's window of periods, by both references, none lost
    lapic = lapic_periodic_checks(r)
    assert len(lapic) == 2 * len(LAPIC_DIVIDERS), sorted(lapic)
    for t in lapic.values():
        y = t.yaml
        assert y["periods_measured"] == y["window_periods"] and y["lost_ticks"] == 0, (t.line, y)
    # the HPET's timer 0: every rate timed deadline to deadline over the window it reports, in
    # one clean window with both ends clean, by both references
    hpet = [t for t in r.tap.tests if t.description.startswith("hpet timer 0 runs at")]
    assert len(hpet) == 6, [t.line for t in hpet]
    for t in hpet:
        y = t.yaml
        assert t.ok and t.directive is None, t.line
        assert y["windows"] == 1 and y["robbed_handlers"] == 0, (t.line, y)
        assert abs(y["periods_measured"] - y["programmed_hz"] * y["window_ms"] / 1000) <= 1, \
            (t.line, y)


def test_lapic_second_reference_skipped_without_acpi(kernel):
    """Without ACPI there is neither a PM timer nor an HPET: the local APIC timer is still timed
    by the TSC at every divider, and every check by a second reference is skipped, saying why."""
    r = run(kernel, "suite=devices", extra=("-no-acpi",))
    assert_passed(r)
    lapic = lapic_periodic_checks(r)
    by = {ref for (_, ref) in lapic}
    assert by == {"tsc", "pmtimer or hpet"} and len(lapic) == 2 * len(LAPIC_DIVIDERS), sorted(lapic)
    for (d, ref), t in lapic.items():
        if ref == "tsc":
            assert held_or_not_judged(t), t.line
        else:
            assert t.directive == "SKIP" and "no ACPI PM timer" in t.reason, t.line
    clocks = r.tap.test("lapic timer clock measured by")
    assert clocks.directive == "SKIP" and "no HPET" in clocks.reason, clocks.line


def test_hpet_tick_source_without_hpet_is_bad_configuration(kernel):
    r = run(kernel, "suite=accounting timer=hpet", extra=("-no-hpet",))
    assert r.status == 2, r.summary()
    assert "timer=hpet" in r.tap.bail_out and "no HPET table" in r.tap.bail_out, r.tap.bail_out


def test_ioapic_without_acpi_is_bad_configuration(kernel):
    r = run(kernel, "suite=accounting irq=ioapic", extra=("-no-acpi",))
    assert r.status == 2, r.summary()
    assert "irq=ioapic" in r.tap.bail_out and "MADT" in r.tap.bail_out, r.tap.bail_out


@pytest.mark.parametrize("irq, route", [("", "IOAPIC input"), ("irq=pic", "legacy replacement")])
def test_hpet_route_follows_the_interrupt_controller(kernel, irq, route):
    """On q35 the HPET can reach IOAPIC inputs 16-23: with the IOAPIC in charge timer 0 gets one
    of its own (level-triggered); with the 8259s only legacy replacement can deliver it."""
    r = run(kernel, f"suite=accounting timer=hpet duration=1s {irq}".strip(), machine="q35")
    assert_passed(r)
    assert route in r.tap.banner["tick source"], r.tap.banner
    assert r.tap.test("hpet ticks at the programmed rate").ok
