"""ISOs of the built kernel with a command line of the caller's, for the tests that boot GRUB
(on BIOS or UEFI firmware) with something other than iso/boot/grub/grub.cfg's default entry.

The menu is grub.cfg's own preamble (serial console, the UEFI video driver) with one entry
and no time to choose, so an ISO made here boots as build/tickguest.iso does, at once;
grub-mkrescue makes it bootable on both firmwares, as `make iso` does.
"""

import re
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GRUB_CFG = REPO / "iso" / "boot" / "grub" / "grub.cfg"


def menu(cmdline: str) -> str:
    """grub.cfg's text up to its first entry, then one entry booting cmdline by Multiboot2."""
    text = GRUB_CFG.read_text()
    preamble = re.sub(r"(?m)^set timeout=\d+$", "set timeout=0", text[:text.index("\nmenuentry ")])
    for ch in "\"'\\$;{}":
        if ch in cmdline:
            raise ValueError(f"{ch!r} in a command line would be GRUB syntax: {cmdline!r}")
    return (f"{preamble}\n\nmenuentry \"tickguest: {cmdline}\" {{\n"
            f"\tmultiboot2 /boot/tickguest.elf {cmdline}\n\tboot\n}}\n")


def make_iso(kernel, cmdline: str, out_dir) -> Path:
    """Build out_dir/tickguest.iso booting kernel with cmdline; its path.  RuntimeError with
    grub-mkrescue's own words if it fails."""
    out_dir = Path(out_dir)
    root = out_dir / "isoroot"
    shutil.rmtree(root, ignore_errors=True)
    (root / "boot" / "grub").mkdir(parents=True)
    (root / "boot" / "grub" / "grub.cfg").write_text(menu(cmdline))
    shutil.copy(kernel, root / "boot" / "tickguest.elf")
    iso = out_dir / "tickguest.iso"
    done = subprocess.run(["grub-mkrescue", "-o", str(iso), str(root)],
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"grub-mkrescue failed ({done.returncode}):\n{done.stderr}")
    return iso
