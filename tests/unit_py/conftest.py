"""Python tests that need no QEMU.  This file only puts tests/ on sys.path, so that harness and
report_html import; it is safe to load more than once."""

import sys
from pathlib import Path

TESTS = str(Path(__file__).resolve().parents[1])
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)
