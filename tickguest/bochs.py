"""Bochs as a second backend of the harness (Debian's bochs, bochsbios and vgabios packages).

Bochs has no multiboot loader and no isa-debug-exit device, so a run boots a GRUB ISO made for
its command line (tickguest/isos.py), and its verdict is the guest's own `# exit: WORD (status N)`
line; the run ends there (Bochs is killed), or when Bochs exits (the guest's ACPI soft-off ends
it: "ACPI control: soft power off"), or at the timeout.  Debian builds Bochs with its debugger, which
stops before the first instruction: `-rc` gives it a file holding `c` (continue).  It builds
no `nogui` display either: `rfb` with `timeout=0` starts without waiting for a viewer.

How Bochs keeps time (bochsrc `clock: sync=`, `cpu: ips=`):
  none      every device follows emulated time, ips instructions a second: runs are exact
            and as fast as the host can go;
  realtime  the devices that ask for it (Bochs's PIT, its CMOS RTC) follow the host's clock,
            the rest (the TSC, the local APIC timer, the HPET) emulated time: when the host
            runs fewer than ips instructions a second the two disagree;
  slowdown  emulation is held back to at most ips a second of host time;
  both      realtime and slowdown.
docs/platforms.md has what tickguest measured in each.

    r = bochs.run(kernel="build/tickguest.elf", cmdline="suite=devices", ips=100_000_000,
                  sync="none")
"""

import os
import shutil
import tempfile
from typing import Optional

from .machine import cmdline_duration_s, timeout_for
from .qemu import Guest, Result
from .status import STATUS_NO_VERDICT
from . import isos

BIOS = "/usr/share/bochs/BIOS-bochs-latest"
VGABIOS = "/usr/share/vgabios/vgabios.bin"
SYNCS = ("none", "realtime", "slowdown", "both")
# Bochs at 100 M instructions a second runs tickguest at about a tenth of real time on these
# hosts; a run's timeout is its QEMU one stretched by this.
SLOWDOWN = 12


def available() -> tuple[bool, str]:
    """Whether Bochs can run here, and if not why (the reason a test skips with)."""
    for what, path in (("bochs", shutil.which("bochs")), ("the Bochs BIOS", BIOS),
                       ("the VGA BIOS", VGABIOS), ("grub-mkrescue", shutil.which("grub-mkrescue"))):
        if not path or not os.path.exists(path):
            return False, f"{what} is not installed (scripts/install-deps installs it)"
    return True, "bochs, its BIOS and grub-mkrescue are installed"


def bochsrc(iso: str, ips: int, sync: str, log: str, memory_mb: int = 64) -> str:
    if sync not in SYNCS:
        raise ValueError(f"sync={sync!r}: Bochs takes {', '.join(SYNCS)}")
    return "\n".join([
        f"megs: {memory_mb}",
        f"romimage: file={BIOS}",
        f"vgaromimage: file={VGABIOS}",
        f"ata0-master: type=cdrom, path={iso}, status=inserted",
        "boot: cdrom",
        # Debian's speaker plugin opens ALSA, and with no sound card Bochs aborts
        "speaker: enabled=0",
        "sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy",
        f"cpu: ips={ips}, reset_on_triple_fault=0",
        f"clock: sync={sync}, time0=local",
        # the serial port is the report: straight to Bochs's stdout, which the harness reads
        "com1: enabled=1, mode=file, dev=/dev/stdout",
        'display_library: rfb, options="timeout=0"',
        f"log: {log}",
        # a fatal condition (a triple fault, the guest's soft-off) ends Bochs, never its debugger
        "panic: action=fatal", "error: action=report", "info: action=report",
        "debugger_log: -",
        "",
    ])


class BochsGuest(Guest):
    """A Guest whose process is Bochs.  The serial reader, the timeout and the kill of the
    process group are the QEMU Guest's; the status comes from the guest's exit line."""

    def __init__(self, kernel, cmdline: str = "", ips: int = 100_000_000, sync: str = "none",
                 timeout: float = None, on_line=None):
        self.workdir = tempfile.mkdtemp(prefix="tickguest-bochs-")
        iso = str(isos.make_iso(kernel, cmdline, self.workdir))
        rc = os.path.join(self.workdir, "bochsrc")
        with open(rc, "w") as f:
            f.write(bochsrc(iso, ips, sync, os.path.join(self.workdir, "bochs.log")))
        cont = os.path.join(self.workdir, "continue")
        with open(cont, "w") as f:
            f.write("c\n")
        if timeout is None:
            timeout = SLOWDOWN * timeout_for(cmdline_duration_s(cmdline))
        super().__init__(kernel=kernel, cmdline=cmdline, timeout=timeout, on_line=on_line,
                         debug_exit=False)
        self.argv = ["bochs", "-q", "-f", rc, "-rc", cont]
        self.ips, self.sync = ips, sync
        self.log: Optional[str] = None       # Bochs's own log, kept when the run ends

    def _exited(self) -> bool:
        # Bochs may go on after the verdict (a CPU halted with interrupts off): the exit line
        # ends the run as an exit would
        return super()._exited() or any(t.startswith("# exit:") for _, t in self.lines)

    def kill(self) -> None:
        super().kill()
        if self.log is None:
            try:
                with open(os.path.join(self.workdir, "bochs.log"), errors="replace") as f:
                    self.log = f.read()
            except OSError:
                self.log = ""
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _make_result(self, timed_out: bool, ended: float) -> Result:
        r = super()._make_result(timed_out, ended)
        if not timed_out:
            r.status = r.tap.exit_line[1] if r.tap.exit_line else STATUS_NO_VERDICT
        return r


def run(kernel, cmdline: str = "", ips: int = 100_000_000, sync: str = "none",
        timeout: Optional[float] = None) -> Result:
    with BochsGuest(kernel, cmdline, ips=ips, sync=sync, timeout=timeout) as g:
        return g.wait()
