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
    """boot(cmdline) -> harness.Result: one TCG run of the ELF, timed out from its duration."""
    def boot(cmdline="", **kw):
        kw.setdefault("timeout", harness.timeout_for(harness.cmdline_duration_s(cmdline)))
        return harness.run(kernel=kernel, cmdline=cmdline, accel="tcg", **kw)
    return boot


@pytest.fixture(scope="session")
def default_run(boot):
    """The run with no command line, shared: the ISO test compares itself with it."""
    return boot("")
