"""UEFI boots: the same ISO under OVMF sees the platform a BIOS boot sees.

A UEFI firmware need not leave the ACPI RSDP in the BIOS area, so a guest that only searches
there loses the PM timer, the HPET, the MADT and with it the IOAPIC, and the RTC's one
catch-up path in QEMU (slew mode, through the IOAPIC).  GRUB's multiboot2 hands the RSDP
over in a tag (kernel/multiboot2.c); these tests boot an ISO under OVMF (Debian's ovmf) and
hold it to the BIOS boot of the same machine (the -kernel run test_devices holds), device by
device, and to the catch-up a SIGSTOP pause of QEMU leaves.
"""

import re
import subprocess

import pytest

import tickguest as tg
from tickguest import isos
from tickguest import report_lines as lines
from test_devices import assert_device_suite

pytestmark = pytest.mark.conformance

# Banner lines that describe a device and must read the same on both firmwares.
DEVICE_LINES = ("pmtimer", "hpet", "lapic", "madt", "ioapic", "irq routing")


def uefi_run(kernel, tmp_path, cmdline, machine="pc", **kw):
    iso = isos.make_iso(kernel, cmdline, tmp_path)
    kw.setdefault("timeout", tg.timeout_for(tg.cmdline_duration_s(cmdline),
                                                 iso=True, uefi=True))
    return tg.run(iso=iso, firmware="uefi", machine=machine, accel="tcg", **kw)


def acpi_tables(r) -> str:
    """The acpi banner line's table list and bad-table count: 'FADT DSDT MADT HPET, bad 0'."""
    m = re.search(r"tables:([\w ]*), bad tables (\d+)", r.tap.banner.get("acpi", ""))
    assert m, r.tap.banner.get("acpi")
    return f"{m.group(1).strip()}, bad {m.group(2)}"


def devices(r) -> dict:
    """The device banner lines, with the PM timer's I/O port left out: each firmware puts the
    chipset's power-management block where it likes (SeaBIOS at 0x600, OVMF at 0xb000 on the
    i440FX), and the port is not the device."""
    return {k: re.sub(r"port 0x[0-9a-f]+", "port (firmware's)", r.tap.banner[k])
            for k in DEVICE_LINES if k in r.tap.banner}


@pytest.mark.parametrize("machine", ["pc", "q35"])
def test_uefi_boot_sees_what_the_bios_boot_sees(kernel, ovmf, device_suite, tmp_path, machine):
    bios = device_suite(machine)
    uefi = uefi_run(kernel, tmp_path, "suite=devices", machine)
    acpi = uefi.tap.banner.get("acpi", "")
    assert "from the loader's ACPI" in acpi, uefi.summary()
    assert acpi_tables(uefi) == acpi_tables(bios), (acpi, bios.tap.banner["acpi"])
    assert devices(uefi) == devices(bios)
    assert_device_suite(uefi)
    assert sorted(t.description for t in uefi.tap.tests) == \
        sorted(t.description for t in bios.tap.tests)


def test_uefi_rtc_catches_up_through_the_ioapic(kernel, ovmf, tmp_path):
    """QEMU's RTC in slew mode owes the ticks of a SIGSTOP pause and pays them back, which it
    can only do through the IOAPIC (docs/rtc.md): under UEFI that path exists only if the MADT
    came through the loader.  One pause of a second at 64 Hz: 63 or 64 ticks owed; every one
    comes back (none lost beyond what QEMU's threads waited for the CPU, a period each), and
    each backlog closes within its peak in periods (slew mode pays back at least one extra a
    period)."""
    cmdline = "suite=accounting timer=rtc irq=ioapic hz=64 duration=4s"
    iso = isos.make_iso(kernel, cmdline, tmp_path)
    with tg.Guest(iso=iso, firmware="uefi", extra_args=tg.RTC_SLEW, sample_vcpu=True,
                       timeout=tg.timeout_for(4, iso=True, uefi=True)) as g:
        g.run_pauses(tg.OnePause(at_s=1.0, length_s=1.0), horizon_s=2.5)
        r = g.wait()
    assert r.status == 0, r.summary()
    assert "from the loader's ACPI" in r.tap.banner["acpi"], r.tap.banner
    assert r.tap.banner["irq routing"].startswith("IOAPIC"), r.tap.banner
    assert len(g.pauses) == 1, g.pauses
    clock, p = lines.tick_clock(r), lines.tick_period_ms(r)
    owed = (g.pauses[0][1] - g.pauses[0][0]) * 1000 / p
    assert clock["catchup_ticks"] >= owed - 2, (clock, owed)
    assert clock["lost"] <= g.runqueue_wait_s() * 1000 / p, (clock, g.runqueue_wait_s())
    for b in lines.backlogs(r):
        assert b.closed_ms <= (b.peak_ticks + 1) * p, b


def test_the_built_iso_boots_on_both_firmwares(iso):
    """build/tickguest.iso carries an El Torito boot image for each platform: GRUB's BIOS
    one and its UEFI one (grub-mkrescue adds the second only where grub-efi-amd64-bin is
    installed, which scripts/install-deps sees to)."""
    done = subprocess.run(["xorriso", "-indev", str(iso), "-report_el_torito", "plain"],
                          capture_output=True, text=True, timeout=60)
    images = re.findall(r"^El Torito boot img\s*:\s*\d+\s+(\w+)", done.stdout, re.M)
    assert sorted(images) == ["BIOS", "UEFI"], done.stdout + done.stderr
