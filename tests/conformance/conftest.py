"""Fixtures that boot the built kernel under QEMU (TCG) for the conformance tests.

These tests hold the kernel to docs/report.md and docs/exit-status.md.  They skip, rather than
fail, when there is nothing to boot yet or no QEMU, and say which.  Timeouts come from
harness.timeout_for, the one place that sizes them, shared with scripts/run-guest.
"""

import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
import harness  # noqa: E402

ELF = REPO / "build" / "tickguest.elf"
ISO = REPO / "build" / "tickguest.iso"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "conformance: boots build/tickguest.elf or .iso under QEMU (slow)")


@pytest.fixture(scope="session")
def qemu():
    path = shutil.which(harness.qemu_binary())
    if path is None:
        pytest.skip(f"{harness.qemu_binary()} not found (scripts/install-deps installs it)")
    return path


@pytest.fixture(scope="session")
def kernel(qemu):
    if not ELF.is_file():
        pytest.skip(f"{ELF.relative_to(REPO)} is not built (run make)")
    return ELF


@pytest.fixture(scope="session")
def iso(qemu):
    if not ISO.is_file():
        pytest.skip(f"{ISO.relative_to(REPO)} is not built (run make)")
    return ISO


@pytest.fixture(scope="session")
def boot(kernel):
    """boot(cmdline) -> harness.Result: one TCG run of the ELF, timed out from its duration."""
    def boot(cmdline="", **kw):
        kw.setdefault("timeout", harness.timeout_for(harness.cmdline_duration_s(cmdline)))
        return harness.run(kernel=kernel, cmdline=cmdline, accel="tcg", **kw)
    return boot


@pytest.fixture(scope="session")
def default_run(boot):
    """The run with no command line, shared: the ISO test compares itself with it."""
    return boot("")
