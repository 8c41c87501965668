"""The Linux peer's host-side parts (tickguest/linux_peer.py), without QEMU or apt: the newc
writer, the /init it packs, the reader of the guest's lines, and the arithmetic of the share of
stolen time charged to the tasks."""

import gzip
import re
import shutil
import stat
import subprocess

import pytest

import tickguest as tg
from tickguest import linux_peer as lp

# A real run's serial capture (3 s, 150 ms SIGSTOP pauses every 500 ms; host times made up),
# with a kernel line and a firmware escape the reader must skip.
CAPTURE = [
    "\x1b[2J\x1b[01;01H",
    "# linux-peer: boot release=6.1.0-57-amd64 uptime=1.66 settled=2.09 clocksource=tsc "
    "available=tsc,hpet,acpi_pm user_hz=100 user_hz_from=assumed",
    "# linux-peer: before now_ns=2099793573 uptime=2.10 jiffies=4294892778 clocksource=tsc "
    "stat=4,0,115,39,0,0,0,0,0,0 schedstat=0,0,0,0,0,0,1219558074,562022418,891",
    "# running 2 tasks for 3000 ms",
    "# linux-peer: after now_ns=5115289000 uptime=5.11 jiffies=4294893531 clocksource=tsc "
    "stat=157,86,117,39,0,0,0,0,0,0 schedstat=0,0,0,0,0,0,4231965298,3571336558,1268",
    "# linux-peer: spinner pid=89 nice=0 utime=197 stime=0 starttime=210 "
    "sum_exec_ms=1975.628599 load_weight=1048576 schedstat=1975628599,1026557721,169",
    "# linux-peer: spinner pid=90 nice=3 utime=101 stime=0 starttime=210 "
    "sum_exec_ms=1019.477726 load_weight=538624 schedstat=1019477726,1987445779,164",
    "# linux-peer: kmsg [    2.112685] clocksource: Switched to clocksource tsc",
    "# linux-peer: end",
    "[    5.196513] reboot: Power down",
]
TIMES = [10.0, 11.0, 11.01, 11.02, 14.0255, 14.05, 14.05, 14.06, 14.06, 14.1]


# -- the newc writer


def test_newc_header_is_the_documented_layout():
    m = lp.newc_member(lp.CpioMember("ab", stat.S_IFREG | 0o644, b"xyz", ino=7))
    # magic, then ino mode uid gid nlink mtime filesize devmaj devmin rdevmaj rdevmin
    # namesize check, 8 hex digits each
    assert m[:110] == (b"070701" b"00000007" b"000081A4" b"00000000" b"00000000"
                       b"00000001" b"00000000" b"00000003" b"00000000" b"00000000"
                       b"00000000" b"00000000" b"00000003" b"00000000")
    # name "ab\0" brings the header to 113 bytes, padded to 116; data 3 bytes padded to 4
    assert m[110:116] == b"ab\0\0\0\0"
    assert m[116:] == b"xyz\0"


def test_newc_round_trip():
    members = [
        lp.CpioMember("dev", stat.S_IFDIR | 0o755, nlink=2),
        lp.CpioMember("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1)),
        lp.CpioMember("bin/sh", stat.S_IFLNK | 0o777, b"busybox"),
        lp.CpioMember("init", stat.S_IFREG | 0o755, b"#!/bin/sh\necho hi\n"),
        lp.CpioMember("empty", stat.S_IFREG | 0o644, b""),
        lp.CpioMember("odd", stat.S_IFREG | 0o644, bytes(range(256)) * 3 + b"x"),
    ]
    data = lp.write_newc(members)
    assert len(data) % 4 == 0
    back = lp.read_newc(data)
    assert [(m.name, m.mode, m.data, m.rdev, m.nlink) for m in back] == \
        [(m.name, m.mode, m.data, m.rdev, m.nlink) for m in members]
    # every member has an inode of its own, so the kernel links none of them
    assert sorted(m.ino for m in back) == list(range(1, len(members) + 1))
    assert data.rstrip(b"\0").endswith(b"TRAILER!!!")


def test_read_newc_refuses_what_is_not_newc():
    with pytest.raises(ValueError):
        lp.read_newc(b"070707" + b"0" * 200)          # the old binary-ish odc format
    data = lp.write_newc([lp.CpioMember("f", stat.S_IFREG | 0o644, b"hello")])
    with pytest.raises(ValueError):
        lp.read_newc(data[:115])                       # cut inside the data


@pytest.mark.skipif(shutil.which("cpio") is None, reason="cpio(1) is not installed")
def test_cpio_tool_lists_the_archive():
    data = lp.write_newc(lp.initramfs_members(b"\x7fELF stand-in"))
    out = subprocess.run(["cpio", "-it", "--quiet"], input=data, capture_output=True, check=True)
    assert out.stdout.decode().split() == [m.name for m in lp.initramfs_members(b"")]


# -- the initramfs


def test_initramfs_has_what_the_kernel_and_init_need(tmp_path):
    busybox = tmp_path / "busybox"
    busybox.write_bytes(b"\x7fELF stand-in")
    out = lp.build_initramfs(busybox)
    assert out == tmp_path / "initramfs.cpio.gz"
    members = {m.name: m for m in lp.read_newc(gzip.decompress(out.read_bytes()))}
    init = members["init"]
    assert stat.S_ISREG(init.mode) and init.mode & 0o111
    assert init.data.startswith(b"#!/bin/sh\n")
    assert stat.S_ISCHR(members["dev/console"].mode) and members["dev/console"].rdev == (5, 1)
    assert stat.S_ISLNK(members["bin/sh"].mode) and members["bin/sh"].data == b"busybox"
    assert members["bin/busybox"].data == b"\x7fELF stand-in"
    for d in ("proc", "sys", "dev", "bin"):
        assert stat.S_ISDIR(members[d].mode)
    # the same inputs, the same bytes
    assert lp.build_initramfs(busybox).read_bytes() == out.read_bytes()


def test_init_script_prints_the_line_descheduling_waits_for():
    script = lp.init_script(12000)
    line = next(l for l in script.splitlines() if "# running" in l)
    shown = line.split('"')[1].replace("$ms", "12000")
    assert re.match(r"^# running \d+ tasks", shown)
    assert lp.RUNNING_RE.match(shown).groups() == ("2", "12000")
    assert "@" not in script.replace("$@", "")            # every placeholder filled
    assert "ms=12000" in script and "renice -n 3" in script
    assert "poweroff -f" in script


@pytest.mark.skipif(shutil.which("sh") is None, reason="no sh to check the syntax with")
def test_init_script_is_valid_shell(tmp_path):
    f = tmp_path / "init"
    f.write_text(lp.init_script())
    r = subprocess.run(["sh", "-n", str(f)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_cmdline_carries_the_duration_where_the_harness_reads_it():
    c = lp.cmdline_for(12.5, "tsc=reliable")
    assert c.startswith("console=ttyS0 ") and "panic=-1" in c and c.endswith("tsc=reliable")
    assert tg.cmdline_duration_s(c) == 12.5


# -- reading the guest's lines


def test_parse_line():
    assert lp.parse_line("# linux-peer: before a=1 b= c=x,y") == \
        ("before", {"a": "1", "b": "", "c": "x,y"})
    assert lp.parse_line("# running 2 tasks for 5 ms") is None
    assert lp.parse_line("# linux-peer: ") is None
    assert lp.parse_line("[ 1.0 ] # linux-peer: boot a=1") is None


def test_parse_lines_reads_a_capture_with_its_host_times():
    lines = lp.parse_lines(list(zip(TIMES, CAPTURE)))
    assert lines.boot["clocksource"] == "tsc" and lines.boot["release"] == "6.1.0-57-amd64"
    assert lines.before["now_ns"] == "2099793573" and lines.after["jiffies"] == "4294893531"
    assert [s["nice"] for s in lines.spinners] == ["0", "3"]
    assert lines.running == "# running 2 tasks for 3000 ms"
    assert lines.kmsg == ["[    2.112685] clocksource: Switched to clocksource tsc"]
    assert lines.ended
    assert lines.times["running"] == 11.02 and lines.times["after"] == 14.0255
    # plain strings work too, without times
    assert lp.parse_lines(CAPTURE).times["running"] is None


def test_summarize_a_paused_run():
    lines = lp.parse_lines(list(zip(TIMES, CAPTURE)))
    r = lp.summarize(lines, stolen_ms=602.0, host={"pauses": 0.6}, config_hz=250)
    assert r.ok and r.problem is None
    assert r.run_ms == pytest.approx(3015.495427)
    assert r.host_run_ms == pytest.approx(3015.5)        # before at 11.01, after at 14.0255
    nice0, nice3 = r.spinners
    assert (nice0.nice, nice0.weight, nice0.charged_ms) == (0, 1024, 1970.0)
    assert (nice3.nice, nice3.weight, nice3.charged_ms) == (3, 526, 1010.0)
    assert nice0.run_ns == 1975628599 and nice3.wait_ns == 1987445779 and nice3.slices == 164
    assert r.charged_ms == 2980.0
    assert r.sum_exec_ms == pytest.approx(2995.106325)
    # cpu0's tasks ran 3012.407224 ms over the run, the spinners 2995.106325 of it
    assert r.other_ms == pytest.approx(17.300899)
    assert r.true_ms == pytest.approx(3015.5 - 602.0 - 17.300899)
    assert r.share_pct == pytest.approx((2980.0 - r.true_ms) / 602.0 * 100)
    assert r.share_exec_pct == pytest.approx((2995.106325 - r.true_ms) / 602.0 * 100)
    assert 99 < r.share_exec_pct < 100
    assert r.stat_ms["user"] == 1530.0 and r.stat_ms["nice"] == 860.0
    assert r.steal_ms == 0.0
    # what the ticks saw is short of the run by about the pauses: those ticks went nowhere
    assert r.stat_ticked_ms == 1530.0 + 860.0 + 20.0
    assert r.measured_hz == pytest.approx(753 / 3.015495427)
    assert r.config_hz == 250 and r.user_hz == 100
    assert r.clocksource == r.clocksource_end == "tsc"
    assert r.init_uptime_s == 1.66


def test_the_share_holds_when_the_guest_clock_stops_too():
    # A QMP stop freezes the guest's clocks: the guest sees a run of T and charges T - O, the
    # host saw T + S.  None of the stolen time was charged.
    lines = lp.parse_lines(list(zip(TIMES, CAPTURE)))
    t_guest = lp.guest_run_ms(lines.before, lines.after)
    lines.times["after"] = lines.times["before"] + (t_guest + 1000.0) / 1000.0
    r = lp.summarize(lines, stolen_ms=1000.0)
    assert r.share_exec_pct == pytest.approx(0.0, abs=0.5)     # C is 3 ms short of T - O
    # without host times the guest's T stands in for W, and the same run reads as 100 %
    lines.times = {}
    assert lp.summarize(lines, stolen_ms=1000.0).share_exec_pct == pytest.approx(100.0, abs=0.5)


def test_summarize_says_what_is_missing():
    r = lp.summarize(lp.parse_lines(CAPTURE[:4]), stolen_ms=0.0)
    assert not r.ok
    assert "after" in r.problem and "2 spinner lines (have 0)" in r.problem \
        and "end" in r.problem
    assert r.run_ms is None and r.share_pct is None and r.charged_ms is None


def test_guest_run_ms_falls_back_to_uptime():
    assert lp.guest_run_ms({"now_ns": "1000000", "uptime": "1.00"},
                           {"now_ns": "3500000", "uptime": "9.00"}) == 2.5
    assert lp.guest_run_ms({"now_ns": "", "uptime": "1.00"},
                           {"now_ns": "", "uptime": "3.25"}) == 2250.0
    assert lp.guest_run_ms({}, {}) is None


def test_stat_delta_in_ms():
    d = lp.stat_delta_ms({"stat": "1,2,3,4,5,6,7,8,0,0"}, {"stat": "11,2,4,4,5,6,7,9,0,0"}, 100)
    assert d["user"] == 100.0 and d["system"] == 10.0 and d["steal"] == 10.0 and d["nice"] == 0
    assert lp.stat_delta_ms({}, {"stat": "1,2"}, 100) == {}


def test_load_weight_undoes_the_64_bit_scaling():
    assert lp.load_weight(1048576) == 1024
    assert lp.load_weight(538624) == 526
    assert lp.load_weight(1024) == 1024
    assert lp.load_weight(88761) == 88761
    assert lp.load_weight(None) is None


# -- the share arithmetic


def test_share_is_0_for_true_charges_and_100_for_charging_every_stolen_ms():
    run, stolen, other = 10000.0, 3000.0, 50.0
    true = lp.true_ms(run, stolen, other)
    assert true == 6950.0
    assert lp.share_of_stolen(true, true, stolen) == 0.0
    assert lp.share_of_stolen(run - other, true, stolen) == 100.0
    assert lp.share_of_stolen(true + 1500.0, true, stolen) == 50.0


def test_share_undefined_without_enough_stolen_time():
    assert lp.share_of_stolen(5000.0, 4990.0, 0.0) is None
    assert lp.share_of_stolen(5000.0, 4990.0, lp.SHARE_MIN_STOLEN_MS - 1) is None
    assert lp.share_of_stolen(5000.0, 4990.0, lp.SHARE_MIN_STOLEN_MS) is not None
    assert lp.share_of_stolen(None, 4990.0, 500.0) is None
    assert lp.share_of_stolen(5000.0, None, 500.0) is None
    assert lp.share_of_stolen(5000.0, 4000.0, 500.0, min_stolen_ms=1000.0) is None
    assert lp.true_ms(None, 1.0) is None


def test_host_stolen_counts_pauses_in_the_window_and_the_vcpu_wait():
    g = tg.Guest(kernel="unused", sample_vcpu=True)    # never started
    g.pauses = [(0.5, 0.9), (1.5, 1.8), (2.9, 3.3), (4.0, 4.5)]
    # (host time, on-CPU ns, run-queue wait ns): 10 ms waited between 1 s and 3 s
    g.vcpu_samples = [(0.0, 0, 0), (1.0, 0.5e9, 1_000_000), (2.0, 1.2e9, 6_000_000),
                      (3.0, 1.9e9, 11_000_000), (4.0, 2.6e9, 12_000_000)]
    parts = lp.host_stolen_parts(g, 1.0, 3.0)
    assert parts["pauses"] == pytest.approx(0.3 + 0.1)      # the third pause is cut at 3 s
    assert parts["runqueue_wait"] == pytest.approx(0.010)
    assert parts["vcpu_off_cpu"] == pytest.approx(2.0 - 1.4)
    assert lp.host_stolen_s(g, 1.0, 3.0) == pytest.approx(0.41)


def test_host_stolen_without_samples_is_the_pauses():
    g = tg.Guest(kernel="unused")
    g.pauses = [(1.0, 1.25)]
    assert lp.host_stolen_parts(g, 0.0, 2.0) == \
        {"pauses": 0.25, "runqueue_wait": 0.0, "vcpu_off_cpu": None}


# -- fetching


def test_parse_apt_depends():
    text = ("linux-image-amd64\n  Depends: linux-image-6.1.0-57-amd64\n"
            "  Depends: <virtual-thing>\n |Depends: a\n  Depends: b\n  Recommends: c\n")
    assert lp.parse_apt_depends(text) == ["linux-image-6.1.0-57-amd64", "a", "b"]
    assert lp.parse_apt_depends("") == []


def test_fetch_does_nothing_when_the_files_are_there(tmp_path, monkeypatch):
    (tmp_path / "vmlinuz-6.1.0-9-amd64").write_bytes(b"k")
    (tmp_path / "config-6.1.0-9-amd64").write_text("CONFIG_HZ_250=y\nCONFIG_HZ=250\n")
    (tmp_path / "busybox").write_bytes(b"b")

    def no_tools(*a, **k):
        raise AssertionError("fetch ran a tool although everything was cached")
    monkeypatch.setattr(lp, "_run", no_tools)
    p = lp.fetch(tmp_path)
    assert p.kernel.name == "vmlinuz-6.1.0-9-amd64" and p.release == "6.1.0-9-amd64"
    assert p.busybox == tmp_path / "busybox"
    assert p.config_hz == 250


def test_missing_apt_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(lp.shutil, "which", lambda name: None)
    with pytest.raises(lp.PeerSetupError, match="apt-cache not found"):
        lp.resolve_kernel_package()
