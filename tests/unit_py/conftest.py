"""Host-only tests of tests/harness.py: plain Python, no QEMU, a second or so in all.

tests/unit holds the C (cmocka) unit tests of the kernel; this directory is their Python
counterpart for the harness.  It puts tests/ on sys.path so the modules here can import harness
the way the conformance suite does.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
