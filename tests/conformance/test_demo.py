"""The default run (`make run` = `scripts/tickguest demo`): both guests pass, both were
stopped as planned, and the table has every row, with the reports where it says.  The
figures are the guest's own; what they must be is held elsewhere (test_ground_truth,
test_descheduling), not by this test."""

import subprocess
import sys

import pytest

from tickguest import isos

pytestmark = pytest.mark.conformance


def test_the_default_run_prints_its_table(kernel, tmp_path):
    done = subprocess.run([sys.executable, str(isos.REPO / "scripts" / "tickguest"), "demo",
                           "--kernel", str(kernel), "--logs", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    stopped = next(line for line in lines if line.strip().startswith("host stopped QEMU for"))
    # 300 ms of every second for the 7 s before the unpaused tail: six or seven stops
    assert [int(x) >= 1800 for x in stopped.split()[4::2]] == [True, True], stopped
    for what in ("stolen time the guest saw", "plain sampling (ticks)", "steal-aware sampling",
                 "exact (TSC)"):
        assert any(line.strip().startswith(what) for line in lines), (what, done.stdout)
    assert (tmp_path / "demo-sponge-off.tap").is_file()
    assert (tmp_path / "demo-sponge-run.tap").read_text().startswith("TAP version 13")
