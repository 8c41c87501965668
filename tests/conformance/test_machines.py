"""Odd machines and CPUs: each ends in a report or a clear refusal, in seconds, never a hang or
an exit without a verdict (docs/platforms.md has the table these come from).

`make test` boots the refusals and one short run of each kind of machine that can run; the
whole device suite on each is in the full matrix (`make conformance`).
"""

import shutil

import pytest

import tickguest as tg

pytestmark = pytest.mark.conformance

NO_TSC = "this CPU cannot run tickguest: no time-stamp counter"
NO_CLOCK = "no clock to calibrate the TSC against: PIT channel 2's OUT (port 0x61 bit 5)"
SHORT = "suite=accounting duration=1s"


@pytest.mark.parametrize("name, kw, words", [
    ("isapc", dict(machine="isapc"), NO_TSC),
    ("486", dict(extra_args=["-cpu", "486"]), NO_TSC),
    ("no-tsc", dict(extra_args=["-cpu", "qemu32,-tsc"]), NO_TSC),
])
def test_cpu_without_a_tsc_is_refused(kernel, name, kw, words):
    r = tg.run(kernel=kernel, accel="tcg", timeout=30, **kw)
    assert r.status == 2 and words in (r.tap.bail_out or ""), r.summary()
    assert r.duration < 10, r.summary()


@pytest.mark.parametrize("machine", ["microvm", "microvm,pit=on,rtc=on,pic=on,isa-serial=on",
                                     "microvm,pit=off,rtc=off,pic=off"])
def test_microvm_ends_with_the_device_it_cannot_use(kernel, machine):
    """No port 0x61 on microvm, so no PIT channel 2 to time the TSC by, and no PM timer or
    HPET either: the guest names each and stops with status 4 rather than run untimed."""
    r = tg.run(kernel=kernel, machine=machine, accel="tcg", timeout=30)
    assert r.status == 4 and (r.tap.bail_out or "").startswith(NO_CLOCK), r.summary()
    assert "PM timer" in r.tap.bail_out and "HPET" in r.tap.bail_out, r.summary()


@pytest.mark.parametrize("name, kw", [
    ("pentium", dict(extra_args=["-cpu", "pentium"])),
    ("no-apic", dict(extra_args=["-cpu", "qemu32,-apic"])),
    ("no-cmov", dict(extra_args=["-cpu", "qemu32,-cmov"])),
])
def test_cpu_that_can_run_gives_a_report(kernel, name, kw):
    """A Pentium (no CMOV, no APIC in QEMU's model) and CPUs without either run to a verdict
    with a whole report: what they lack is skipped, never faulted on."""
    r = tg.run(kernel=kernel, cmdline=SHORT, accel="tcg", **kw)
    assert r.status in (0, 1) and r.tap.exit_line is not None, r.summary()
    assert tg.check_consistent(r) == [], r.summary()


@pytest.mark.full
@pytest.mark.parametrize("name, kw", [
    ("q35", dict(machine="q35")),
    ("smp2", dict(extra_args=["-smp", "2"])),
    ("pentium", dict(extra_args=["-cpu", "pentium"])),
    ("no-apic", dict(extra_args=["-cpu", "qemu32,-apic"])),
])
def test_device_suite_on_other_machines(kernel, name, kw):
    r = tg.run(kernel=kernel, cmdline="suite=devices", accel="tcg", **kw)
    assert r.status == 0, r.summary()
    if name == "no-apic":
        lapic = [t for t in r.tap.tests if t.description.startswith("lapic ")]
        assert lapic and all(t.directive == "SKIP" for t in lapic), [t.line for t in lapic]


@pytest.mark.skipif(not shutil.which("qemu-system-i386"), reason="no qemu-system-i386")
def test_qemu_system_i386(kernel):
    r = tg.run(kernel=kernel, cmdline=SHORT, accel="tcg", qemu="qemu-system-i386")
    assert r.status in (0, 1) and r.tap.exit_line is not None, r.summary()
    assert tg.check_consistent(r) == [], r.summary()


def test_kvm_when_it_can(kernel):
    """KVM is optional: where it runs the guest, the default run passes under it; where it
    cannot (the nested hosts here: #GP on enabling paging), the test says why and skips."""
    ok, why = tg.kvm_runs_guest(kernel)
    if not ok:
        pytest.skip(why)
    r = tg.run(kernel=kernel, accel="kvm")
    assert r.status == 0, r.summary()
