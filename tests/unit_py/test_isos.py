"""The ISOs the tests make for a command line (tickguest/isos.py), and the harness's firmware
choice: what can be held without booting anything."""

import pytest

import tickguest as tg
from tickguest import isos
from tickguest import Guest


def test_menu_keeps_grub_cfg_s_preamble_and_boots_by_multiboot2():
    text = isos.menu("suite=devices hz=250")
    preamble = isos.GRUB_CFG.read_text().split("\nmenuentry ")[0]
    assert "set timeout=3" in preamble and "set timeout=3" not in text   # one entry: no wait
    assert text.startswith(preamble.replace("set timeout=3", "set timeout=0"))
    # one entry, the command line after the kernel's path, nothing of grub.cfg's others
    assert text.count("menuentry ") == 1
    assert "\tmultiboot2 /boot/tickguest.elf suite=devices hz=250\n" in text
    assert "serial --unit=0 --speed=115200" in text and "insmod efi_gop" in text


@pytest.mark.parametrize("bad", ['a"b', "x;reboot", "$root", "{", "back\\slash", "it's"])
def test_menu_refuses_a_command_line_grub_would_read_as_its_own_syntax(bad):
    with pytest.raises(ValueError, match="GRUB syntax"):
        isos.menu(f"suite=devices {bad}")


def test_uefi_needs_an_iso_and_a_known_firmware():
    with pytest.raises(ValueError, match="needs an ISO"):
        Guest(kernel="unused.elf", firmware="uefi")
    with pytest.raises(ValueError, match="'bios' or 'uefi'"):
        Guest(iso="unused.iso", firmware="coreboot")


def test_a_uefi_boot_is_given_the_firmware_s_time_on_top_of_grub_s():
    assert tg.timeout_for(5, iso=True, uefi=True) == pytest.approx(
        tg.timeout_for(5, iso=True) + tg.UEFI_ALLOWANCE_S)


def test_ovmf_path_prefers_tickguest_ovmf(tmp_path, monkeypatch):
    fd = tmp_path / "OVMF.fd"
    fd.write_bytes(b"\0")
    monkeypatch.setenv("TICKGUEST_OVMF", str(fd))
    assert tg.ovmf_path() == str(fd)
    monkeypatch.setenv("TICKGUEST_OVMF", str(tmp_path / "absent.fd"))
    assert tg.ovmf_path() in (None, *tg.OVMF_PATHS)
