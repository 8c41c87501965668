"""Session-wide pytest plumbing for every test under tests/: the host package on the path, and
its pytest plugin (tickguest/pytest_plugin.py: the --tap, --report-html and --run-records
outputs, the run_records fixture)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # the host package, tickguest/

pytest_plugins = ["tickguest.pytest_plugin"]
