"""The timer device suite across machine types, and every tick source driving the accounting
run: what issue #3 asks `make test` to cover.  A device the machine lacks must be skipped with
the true reason; anything else must pass."""

import pytest

import harness

pytestmark = pytest.mark.conformance

# The device checks every PC that QEMU models should pass, by description prefix.
DEVICE_CHECKS = ("TSC calibration", "tsc never goes backwards", "pmtimer never goes backwards",
                 "rtc periodic interrupt at", "rtc update-ended interrupts",
                 "rtc time of day advances", "lapic timer divide by", "lapic one-shot",
                 "ioapic routes the PIT")


def run(kernel, cmdline, machine="pc", extra=()):
    return harness.run(kernel=kernel, cmdline=cmdline, machine=machine, accel="tcg",
                       extra_args=list(extra),
                       timeout=harness.timeout_for(harness.cmdline_duration_s(cmdline)))


def assert_passed(r):
    assert r.status == 0, r.summary()
    assert harness.check_consistent(r) == [], r.summary()


@pytest.mark.parametrize("machine, extra", [("pc", ()), ("q35", ()), ("pc", ("-no-hpet",))],
                         ids=["pc", "q35", "pc-no-hpet"])
def test_device_suite(kernel, machine, extra):
    r = run(kernel, "suite=devices", machine, extra)
    assert_passed(r)
    for prefix in DEVICE_CHECKS:
        found = [t for t in r.tap.tests if t.description.startswith(prefix)]
        assert found, f"no check {prefix!r}\n{r.summary()}"
        assert all(t.ok and t.directive is None for t in found), [t.line for t in found]
    # no workload ran
    assert not any(t.description.startswith("task ") for t in r.tap.tests)
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
            assert t.ok, t.line


def test_hpet_tick_source_without_hpet_is_bad_configuration(kernel):
    r = run(kernel, "suite=accounting timer=hpet", extra=("-no-hpet",))
    assert r.status == 2, r.summary()
    assert "timer=hpet" in r.tap.bail_out and "no HPET table" in r.tap.bail_out, r.tap.bail_out


def test_ioapic_without_acpi_is_bad_configuration(kernel):
    r = run(kernel, "suite=accounting irq=ioapic", extra=("-no-acpi",))
    assert r.status == 2, r.summary()
    assert "irq=ioapic" in r.tap.bail_out and "MADT" in r.tap.bail_out, r.tap.bail_out
