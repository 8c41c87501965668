"""Host-only Python tests: the harness and the HTML report, plain Python, no QEMU, seconds in all.

tests/unit holds the C (cmocka) unit tests of the kernel; this directory is their Python
counterpart.  It puts the repository on sys.path so the modules here import the host package (tickguest/)
the way the conformance suite does; loading it twice is harmless.
"""

import sys
from pathlib import Path

import pytest

from .fake_qemu import write_fake_qemu

REPO = str(Path(__file__).resolve().parents[2])
if REPO not in sys.path:
    sys.path.insert(0, REPO)


@pytest.fixture(scope="module")
def fake_qemu(tmp_path_factory):
    """The path of a stand-in for QEMU (fake_qemu.py), for Guest's qemu= option."""
    return write_fake_qemu(tmp_path_factory.mktemp("fake"))
