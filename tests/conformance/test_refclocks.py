"""The reference clock checks (checks/refclock.c, checks/pmtimer.c, checks/hpet.c) against the
contract: on a machine with a PM timer and an HPET every one of them is made and passes, or is
not judged because the host took the CPU in every window it had, which it says with the
window's figures; where a device is missing its checks are skipped, and the skip names the
reason."""

import pytest

import tickguest as tg
from test_devices import held_or_not_judged

pytestmark = pytest.mark.conformance

HPET_CHECKS = ("hpet never goes backwards", "hpet frequency agrees",
               "pmtimer frequency agrees with the hpet", "hpet timer 0 runs at",
               "hpet one-shot")
PM_CHECKS = ("pmtimer never goes backwards", "pmtimer read every",
             "pmtimer frequency agrees with the tsc")


def checks(r, prefixes):
    found = [t for t in r.tap.tests if t.description.startswith(prefixes)]
    assert found, f"no checks starting with {prefixes}\n{r.summary()}"
    return found


@pytest.mark.parametrize("machine", ["pc", "q35"])
def test_refclock_checks_pass(kernel, machine):
    r = tg.run(kernel=kernel, cmdline="duration=1s", machine=machine, accel="tcg",
                    timeout=tg.timeout_for(1))
    assert r.status == 0, r.summary()
    assert tg.check_consistent(r) == [], r.summary()
    for t in checks(r, HPET_CHECKS + PM_CHECKS):
        assert held_or_not_judged(t), t.line
    # every rate with its figures; a judged one inside its tolerance, and measured between two
    # ends the host left alone
    for t in checks(r, ("hpet timer 0 runs at",)):
        y = t.yaml
        assert {"programmed_hz", "measured_hz", "error_ppm", "tolerance_ppm"} <= y.keys(), t.line
        if t.directive is None:
            assert abs(y["error_ppm"]) <= y["tolerance_ppm"] and y["periods_measured"] > 0, y
    assert "hpet" in r.tap.banner and "pmtimer" in r.tap.banner, r.tap.banner


def test_no_hpet_skips_with_reason(kernel):
    r = tg.run(kernel=kernel, cmdline="duration=1s", machine="pc", accel="tcg",
                    extra_args=["-no-hpet"], timeout=tg.timeout_for(1))
    assert r.status == 0, r.summary()
    for t in checks(r, HPET_CHECKS):
        assert t.directive == "SKIP" and t.reason == "no HPET table", t.line
    for t in checks(r, PM_CHECKS):
        assert held_or_not_judged(t), t.line
