"""What a run is launched with: the QEMU binary and the arguments the tests share, whether
KVM can run the guest, UEFI firmware, and the timeouts, from the guest's own command line."""

from __future__ import annotations

import os
import re
from typing import Optional


DEBUG_EXIT_DEVICE = "isa-debug-exit,iobase=0xf4,iosize=0x04"

# QEMU arguments the tests share.  RTC_SLEW: QEMU's RTC delivers the periodic interrupts it
# could not deliver in time afterwards, fast: the catch-up device of the experiment.
# ICOUNT_ARGS: every clock derives from the instruction count and the RTC starts from a fixed
# base (a leap day, a minute before midnight), so runs are deterministic and no tick is late.
RTC_SLEW = ["-rtc", "driftfix=slew"]
def icount_args(shift: int = 4) -> list:
    """Deterministic mode with 2**shift ns an instruction (QEMU's -icount shift=)."""
    return ["-icount", f"shift={shift},sleep=off", "-rtc", "base=2024-02-29T23:59:58,clock=vm"]


ICOUNT_ARGS = icount_args()

# Timeouts live here so that the tests and scripts/run-guest agree.  A guest's clock follows the
# host's under TCG, so a run takes about its configured duration; the rest is for QEMU, firmware,
# TSC calibration and the device checks on a busy two-core machine (45 s; the device checks take
# about 25 s when every window is clean), for the device checks' windows measured again on a
# loaded host (their windows come to about 12 s, and each is tried up to window_tries = 4 times:
# 36 s more), and for GRUB's menu on an ISO boot.
DEFAULT_DURATION_S = 5.0          # CONFIG_DURATION_DEFAULT_US
BOOT_ALLOWANCE_S = 45.0 + 36.0
GRUB_ALLOWANCE_S = 60.0
DURATION_FACTOR = 3.0


# OVMF under TCG takes about 10 s to reach GRUB on an idle host.
UEFI_ALLOWANCE_S = 40.0


def timeout_for(duration_s: float = DEFAULT_DURATION_S, iso: bool = False,
                uefi: bool = False) -> float:
    """How long to wait for a run of duration_s before calling it hung (status 124)."""
    t = BOOT_ALLOWANCE_S + DURATION_FACTOR * duration_s
    return t + (GRUB_ALLOWANCE_S if iso else 0) + (UEFI_ALLOWANCE_S if uefi else 0)


# UEFI firmware for Guest(firmware="uefi"): Debian's ovmf package, or TICKGUEST_OVMF.
OVMF_PATHS = ("/usr/share/ovmf/OVMF.fd", "/usr/share/qemu/OVMF.fd")


def ovmf_path() -> Optional[str]:
    """The OVMF image QEMU's -bios takes (code and variables in one file), or None."""
    for path in filter(None, (os.environ.get("TICKGUEST_OVMF"), *OVMF_PATHS)):
        if os.path.isfile(path):
            return path
    return None


_DURATION_RE = re.compile(r"(?:^|\s)duration=(\d+(?:\.\d+)?)(us|ms|s|m|min|h)(?=\s|$)")
_UNIT_S = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


def cmdline_duration_s(cmdline: str) -> float:
    """The run length a command line asks for, only to size a timeout; the guest is the judge
    of what is valid, so anything unreadable counts as the default."""
    m = None
    for m in _DURATION_RE.finditer(cmdline or ""):
        pass
    if m is None:
        return DEFAULT_DURATION_S
    return float(m.group(1)) * _UNIT_S[m.group(2)]


# Host environment


def qemu_binary() -> str:
    return os.environ.get("QEMU") or "qemu-system-x86_64"


def kvm_available() -> tuple[bool, str]:
    """Whether -accel kvm can work here.  Only a cheap probe: TCG is what everything uses by
    default, KVM is an opt-in that should fail with a reason rather than a QEMU error."""
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError as e:
        return False, f"/dev/kvm: {e.strerror}"
    os.close(fd)
    return True, "/dev/kvm opens read-write"
