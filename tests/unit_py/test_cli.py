"""The `tickguest` command's surface (scripts/tickguest, tickguest/cli.py): every verb has its help,
and a usage error is 125, never argparse's 2, which is the guest's "bad configuration"."""

import subprocess
import sys
from pathlib import Path

import pytest

TICKGUEST = Path(__file__).resolve().parents[2] / "scripts" / "tickguest"
RUN_GUEST = TICKGUEST.with_name("run-guest")


def call(*argv, script=TICKGUEST):
    return subprocess.run([sys.executable, str(script), *argv], capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("verb", [(), ("run",), ("judge",), ("iso",), ("suite",), ("demo",)])
def test_every_verb_has_its_help(verb):
    done = call(*verb, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: tickguest"), done.stdout


@pytest.mark.parametrize("argv, says", [
    ((), "VERB"),
    (("bogus",), "invalid choice"),
    (("run",), "one of the arguments --kernel --iso is required"),
    (("run", "--iso", "x.iso", "--append", "hz=100"), "--append needs --kernel"),
    (("run", "--kernel", "x.elf", "--uefi"), "--uefi needs --iso"),
    (("judge", "log", "--", "-M", "q35"), "for run, not judge"),
    (("bench",), "bench devices|timekeeping|linux-peer"),
    (("bench", "profile"), "bench devices|timekeeping|linux-peer"),
])
def test_usage_errors_are_125(argv, says):
    done = call(*argv)
    assert done.returncode == 125, (done.returncode, done.stderr)
    assert says in done.stderr, done.stderr


def test_judge_of_a_missing_log_is_no_verdict(tmp_path):
    done = call("judge", str(tmp_path / "absent.log"))
    assert done.returncode == 125 and "absent.log" in done.stderr, done.stderr


def test_judge_of_a_log_with_no_report_says_so(tmp_path):
    log = tmp_path / "noise.log"
    log.write_bytes(b"SeaBIOS (version 1.16.2)\r\nBooting from DVD/CD...\r\n")
    done = call("judge", str(log))
    assert done.returncode == 125 and "no 'TAP version 13' line" in done.stderr, done.stderr
    assert not (tmp_path / "noise.log.tap").exists()


def test_run_guest_is_tickguest_run():
    done = call("--iso", "x.iso", "--append", "hz=100", script=RUN_GUEST)
    assert done.returncode == 125 and "--append needs --kernel" in done.stderr, done.stderr


@pytest.mark.parametrize("argv, script", [
    (("profile",), "timer-profile"), (("bench", "devices"), "bench-devices"),
    (("bench", "timekeeping"), "bench-timekeeping"), (("bench", "linux-peer"), "bench-linux-peer"),
])
def test_the_figures_verbs_are_the_scripts(argv, script):
    """profile and bench hand their arguments to the script: its own --help answers."""
    done = call(*argv, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: {script}"), done.stdout


@pytest.mark.parametrize("cmdline, status", [
    ("exit=0 duration=0.2s", 0),         # passed
    ("exit=1 duration=0.2s", 1),         # a check failed
    ("duration=0.2s", 77),               # everything skipped: the fake's default end
    ("exit=4 duration=0.2s", 4),         # a device failed
])
def test_run_exits_with_the_guests_own_status(fake_qemu, cmdline, status):
    """tickguest run's status is the guest's, never folded into one failure code."""
    done = call("run", "--qemu", fake_qemu, "--kernel", __file__, "--append", cmdline,
                "--quiet")
    assert done.returncode == status, (done.returncode, done.stderr)


def test_run_without_a_qemu_is_a_harness_error(tmp_path):
    """A QEMU that cannot start is the harness's failure (125), distinct from every guest's."""
    done = call("run", "--qemu", str(tmp_path / "no-such-qemu"), "--kernel", __file__,
                "--append", "duration=0.2s", "--quiet")
    assert done.returncode == 125, (done.returncode, done.stderr)
