"""`tickguest judge` against a live run: a log captured the way a user of another hypervisor
captures one (COM1 to a file, no isa-debug-exit, the guest powering off through ACPI) must
give the verdict the harness gives the same configuration live, and a TAP file that Perl's
TAP::Parser reads as version 13 with every YAML block (the raw log reads as TAP 12, with none:
GRUB's escapes and the \\r before `TAP version 13`)."""

import re
import shutil
import subprocess
import sys

import pytest

import tickguest as tg
from tickguest import isos

pytestmark = pytest.mark.conformance

CMDLINE = "suite=accounting duration=1s"
TAP_PARSER = r'''
local $/; open my $f, "<", $ARGV[0] or die "$ARGV[0]: $!"; my $text = <$f>;
my $p = TAP::Parser->new({ tap => $text }); my $yaml = 0;
while (my $r = $p->next) { $yaml++ if $r->is_yaml }
printf "%s %d %d\n", $p->version, $yaml, scalar($p->parse_errors);
'''


def tap_parser(path):
    """(version, YAML blocks, parse errors) as Perl's TAP::Parser reads the file."""
    out = subprocess.run(["perl", "-MTAP::Parser", "-e", TAP_PARSER, str(path)],
                         capture_output=True, text=True, timeout=60, check=True).stdout.split()
    return int(out[0]), int(out[1]), int(out[2])


def test_a_captured_log_gets_the_live_verdict(kernel, tmp_path):
    if shutil.which("perl") is None:
        pytest.skip("perl is not installed (Debian package perl)")
    iso = isos.make_iso(kernel, CMDLINE, tmp_path)
    timeout = tg.timeout_for(1, iso=True)
    live = tg.run(iso=iso, accel="tcg", timeout=timeout)
    log = tmp_path / "com1.log"
    # as a user would: the port to a file, no debug-exit device, QEMU left to end by itself
    # at the guest's ACPI soft-off (subprocess.run kills it on a timeout or an interrupt)
    qemu = subprocess.run([tg.qemu_binary(), "-machine", "pc,accel=tcg", "-m", "64M",
                           "-display", "none", "-vga", "none", "-monitor", "none",
                           "-no-reboot", "-serial", f"file:{log}", "-cdrom", str(iso),
                           "-boot", "d"], capture_output=True, timeout=timeout)
    assert qemu.returncode == 0, qemu.stderr
    tap, html = tmp_path / "out.tap", tmp_path / "out.html"
    judged = subprocess.run([sys.executable, str(isos.REPO / "scripts" / "tickguest"), "judge",
                             str(log), "--tap", str(tap), "--html", str(html)],
                            capture_output=True, text=True, timeout=120)
    assert judged.returncode == live.status == 0, (judged.stderr, live.summary())
    assert "powering off through ACPI" in tap.read_text(), "the guest did not take the ACPI path"
    blocks = len(re.findall(r"^\s+---$", tap.read_text(), re.M))
    assert blocks > 0
    assert tap_parser(tap) == (13, blocks, 0)
    assert tap_parser(log)[:2] == (12, 0)       # what the raw capture reads as
    page = html.read_text()
    assert "Times on the plots are the guest's own" in page
    assert 'id="run-0-behind"' in page          # the behind-by plot, on the guest's stamps
    assert "passed (status 0)" in page
