"""Fixtures that boot the built kernel under QEMU (TCG) for the conformance tests.

These tests hold the kernel to docs/report.md and docs/exit-status.md.  They skip, rather than
fail, when there is nothing to boot yet or no QEMU, and say which.  Timeouts come from
tg.timeout_for, the one place that sizes them, shared with scripts/run-guest.
"""

import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))                      # the host package, tickguest/
import tickguest as tg  # noqa: E402

ELF = REPO / "build" / "tickguest.elf"
ISO = REPO / "build" / "tickguest.iso"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "conformance: boots build/tickguest.elf or .iso under QEMU (slow)")


@pytest.fixture(scope="session")
def qemu():
    path = shutil.which(tg.qemu_binary())
    if path is None:
        pytest.skip(f"{tg.qemu_binary()} not found (scripts/install-deps installs it)")
    return path


def _built(path):
    """path, or the test skipped when make has not built it."""
    if not path.is_file():
        pytest.skip(f"{path.relative_to(REPO)} is not built (run make)")
    return path


@pytest.fixture(scope="session")
def kernel(qemu):
    return _built(ELF)


@pytest.fixture(scope="session")
def iso(qemu):
    return _built(ISO)


@pytest.fixture(scope="session")
def boot(kernel):
    """boot(cmdline) -> tg.Result: one TCG run of the ELF, timed out from its duration."""
    def boot(cmdline="", **kw):
        kw.setdefault("timeout", tg.timeout_for(tg.cmdline_duration_s(cmdline)))
        return tg.run(kernel=kernel, cmdline=cmdline, accel="tcg", **kw)
    return boot


@pytest.fixture(scope="session")
def default_run(boot):
    """The run with no command line, shared: the ISO test compares itself with it."""
    return boot("")


@pytest.fixture(scope="session")
def device_suite(kernel):
    """device_suite(machine, extra=()) -> tg.Result of `suite=devices` on that machine,
    booted by -kernel on QEMU's BIOS, once a session: test_devices holds it to the device
    claims, test_uefi compares a UEFI boot of the same machine with it."""
    runs = {}

    def get(machine, extra=()):
        key = (machine, tuple(extra))
        if key not in runs:
            runs[key] = tg.run(kernel=kernel, cmdline="suite=devices", machine=machine,
                                    accel="tcg", extra_args=list(extra),
                                    timeout=tg.timeout_for())
        return runs[key]
    return get


@pytest.fixture(scope="session")
def ovmf(qemu):
    """The UEFI firmware image, or the test skipped saying how to get it."""
    path = tg.ovmf_path()
    if path is None:
        pytest.skip("no OVMF firmware in " + ", ".join(tg.OVMF_PATHS) +
                    " (Debian's ovmf; scripts/install-deps installs it)")
    return path
