"""tickguest under Bochs, the second emulator (tickguest/bochs.py).

`make test` boots the device checks once under Bochs's instruction time (sync=none), where
every clock follows the instruction count and the report must pass as it does under QEMU.
The other modes are in the whole matrix (`make conformance`): they end in a report, and what
they measure is a finding about Bochs rather than a verdict about tickguest (docs/platforms.md).
"""

import pytest

from tickguest import bochs
import tickguest as tg

pytestmark = pytest.mark.conformance

OK, WHY = bochs.available()
needs_bochs = pytest.mark.skipif(not OK, reason=WHY)


def assert_verdict(r, status=None):
    assert r.status != tg.STATUS_NO_VERDICT and not r.timed_out, r.summary()
    assert tg.check_consistent(r) == [], r.summary()
    if status is not None:
        assert r.status == status, r.summary()


@needs_bochs
def test_device_checks_pass_under_bochs_instruction_time(kernel):
    r = bochs.run(kernel, "suite=devices", ips=100_000_000, sync="none")
    assert_verdict(r, 0)
    assert r.tap.banner.get("tsc", "").startswith("100."), r.tap.banner   # ips, to the MHz
    assert not r.tap.failed(), r.summary()


@needs_bochs
@pytest.mark.full
@pytest.mark.parametrize("ips, sync", [(50_000_000, "none"), (100_000_000, "realtime"),
                                       (100_000_000, "slowdown")])
def test_bochs_modes_end_in_a_report(kernel, ips, sync):
    r = bochs.run(kernel, "suite=devices", ips=ips, sync=sync)
    assert_verdict(r)
    if sync == "none":
        # a 50 MHz TSC is a working one (no floor at a real CPU's clock)
        assert r.status == 0, r.summary()
