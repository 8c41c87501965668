"""The Linux peer: Debian's own kernel under the same QEMU, running the same two spinners.

tickguest reports what its tick sampling and its exact TSC accounting charge each spinner when
the host takes the CPU away.  The comparison a user would reach for is a stock kernel; this
module boots Debian's (the package linux-image-amd64 depends on) with a busybox initramfs whose
/init starts two CPU spinners, lets them spin, and prints what Linux charged them, from /proc.
scripts/bench-linux-peer runs it; docs/linux-peer.md explains the figures.  Standard library
plus PyYAML only, like tickguest/qemu.py, which boots it (Guest).

The spinners.  Two busybox shells in `while :; do :; done`, one at nice 0 (CFS weight 1024) and
one at nice 3 (weight 526): 1024:526 = 1.95, the nearest nice levels come to tickguest's 2:1.
They stay runnable for the whole run; /init sleeps meanwhile, and nothing else runs but the
kernel's own threads and interrupts.

What Linux charges.  Per spinner, utime + stime from /proc/PID/stat (clock ticks of USER_HZ:
the figure top and ps show) and se.sum_exec_runtime from /proc/PID/sched (ns precision).  The
two agree by construction: Linux samples user/system at each tick, then scales the pair so that
it adds up to sum_exec_runtime (kernel/sched/cputime.c, cputime_adjust), which is measured with
sched_clock, the TSC.  The TSC runs on while QEMU is descheduled, so a spinner that was current
when the host took the CPU is charged the whole gap when it comes back.  Also /proc/stat's cpu
line before and after (the raw tick samples, not scaled: a tick the vCPU missed is charged to
nobody), its steal field (0 here: under TCG there is no paravirtual steal clock, and Debian's
kernel is built without CONFIG_PARAVIRT_TIME_ACCOUNTING anyway), the jiffies counter, and the
guest's monotonic clock from /proc/timer_list (or /proc/uptime).

The run.  /init takes a snapshot ("before"), forks the spinners, sleeps, stops both spinners
(SIGSTOP) and takes another ("after"); each snapshot line goes out on the serial port at once.
The run's length W is the host's wall time between the arrival of those two lines, the
ground truth; the guest's own measure of it, T, is its monotonic clock between the two
snapshots.  Under TCG the guest's clocks follow the host's through a SIGSTOP, a CPU cap or
contention, so T and W agree to a few ms of serial latency; through a QMP stop they do not
(QEMU stops the guest's clocks too), which is why W and not T is the length below.  A line
held up because the vCPU was descheduled just before sending it lengthens W and S alike.

Stolen time and the share charged to the tasks.  The stolen time S is what the host says it
took from the vCPU between the two lines; the caller supplies it (run_peer's stolen=), and
the default, host_stolen_s(), is Σ Guest.pauses (SIGSTOP) plus the vCPU thread's run-queue
wait from Guest.vcpu_samples (on Linux a CPU cap's throttled time shows there too).  Two
spinners are always runnable, so the CPU was theirs whenever the guest ran, except for what
the guest itself spent elsewhere: the kernel's threads, /init's wake-ups and the forks at the
start.  Linux measures that too (the run time of all tasks from /proc/schedstat's cpu0 line,
less the spinners'); call it O.  So the time the spinners could really have run is

    true = W - S - O

and what Linux charged them is C = Σ (utime + stime).  Charging exactly true time gives C =
true; charging every stolen ms to whichever spinner was current gives C = W - O = true + S.
So

    share = (C - true) / S

is the share of the stolen time Linux charged to the tasks: 0 for a kernel that accounts steal
away, 1 (100 %) for one that cannot see it.  It is not given (None) for S under
SHARE_MIN_STOLEN_MS: a few ms of steal, as in an undisturbed run on a quiet host, would only
magnify C's tick rounding.  The same share from sum_exec_runtime is kept beside it
(share_exec_pct).
"""

from __future__ import annotations

import gzip
import re
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

from .qemu import Guest, Result
from .tap import clean_line

ROOT = Path(__file__).resolve().parents[1]
PEER_DIR = ROOT / "build" / "linux-peer"

KERNEL_META_PACKAGE = "linux-image-amd64"     # depends on the concrete linux-image-<release>
BUSYBOX_PACKAGE = "busybox-static"

DEFAULT_DURATION_S = 12.0
# USER_HZ is 100 on x86 whatever CONFIG_HZ is; busybox has no getconf to ask.
ASSUMED_USER_HZ = 100

# Nice 0 and nice 3, by the kernel's table of weights (kernel/sched/core.c, sched_prio_to_weight).
SPINNER_NICES = (0, 3)
NICE_WEIGHTS = {0: 1024, 1: 820, 2: 655, 3: 526, 4: 423, 5: 335}

# "quiet": only errors on the console, so the serial port carries /init's lines; "panic=-1"
# with QEMU's -no-reboot: a panic ends QEMU at once instead of hanging till the timeout.
# "mitigations=off": speculative-execution workarounds cost TCG time at every kernel entry
# and change nothing in the accounting.  The clocksource is left to the kernel (see the docs).
# duration= is not a kernel parameter: the kernel hands it to /init in the environment, and
# cmdline_duration_s() reads it, so run_pauses' default horizon fits the run.
BASE_CMDLINE = "console=ttyS0 quiet panic=-1 mitigations=off"
MEMORY = "256M"
# QEMU arguments beyond Guest's own: one vCPU (QEMU's default, said for the reader), no NIC
# (nothing in the guest would use it).
QEMU_ARGS = ("-smp", "1", "-nic", "none")

# A Linux boot under TCG takes seconds on an idle machine and several times that on a loaded
# two-core one; a descheduler that caps QEMU's CPU slows the boot by the cap as well.
BOOT_ALLOWANCE_S = 240.0
DURATION_FACTOR = 3.0

LINE_PREFIX = "# linux-peer: "
RUNNING_RE = re.compile(r"^# running (\d+) tasks for (\d+) ms")


class PeerSetupError(RuntimeError):
    """The kernel or busybox could not be fetched or unpacked; the message says why."""


# --------------------------------------------------------------------------------------------
# Fetching Debian's packages (downloaded, never installed)


def _run(argv: list, cwd: Path = None, what: str = None) -> subprocess.CompletedProcess:
    """Run a host tool, failing with a sentence instead of a traceback when it is missing."""
    exe = shutil.which(argv[0])
    if exe is None:
        raise PeerSetupError(f"{argv[0]} not found: the Linux peer needs Debian's apt and dpkg "
                             f"tools to {what or 'fetch its packages'}")
    return subprocess.run([exe] + argv[1:], cwd=cwd, capture_output=True, text=True)


def parse_apt_depends(text: str) -> list:
    """The packages an `apt-cache depends` listing names on its Depends lines, in order;
    virtual ones (<name>) are left out, alternatives (|Depends) kept."""
    out = []
    for line in text.splitlines():
        m = re.match(r"^\s*\|?Depends:\s*(\S+)", line)
        if m and not m.group(1).startswith("<"):
            out.append(m.group(1))
    return out


def _apt_update() -> None:
    r = _run(["apt-get", "update", "-qq"], what="update its package lists")
    if r.returncode != 0:
        raise PeerSetupError(f"apt-get update failed (rc {r.returncode}): {r.stderr.strip()}")


def _found_after_update(attempt: Callable[[], tuple], failure: Callable[[object], str]):
    """attempt() -> (what it found or None, its run).  When it finds nothing, apt's lists may
    just not know the package yet: update them once and attempt again.  Still nothing:
    PeerSetupError(failure(the last run))."""
    found, r = attempt()
    if found is None:
        _apt_update()
        found, r = attempt()
    if found is None:
        raise PeerSetupError(failure(r))
    return found


def resolve_kernel_package(meta: str = KERNEL_META_PACKAGE) -> str:
    """The concrete linux-image-<release> package that meta depends on.  Updates apt's lists
    once if they do not know meta yet."""
    def attempt():
        r = _run(["apt-cache", "depends", meta], what="resolve the kernel package")
        deps = [d for d in parse_apt_depends(r.stdout) if d.startswith("linux-image-")]
        return (deps[0] if r.returncode == 0 and deps else None), r

    return _found_after_update(attempt, lambda r: (
        f"apt-cache depends {meta} names no linux-image package "
        f"(rc {r.returncode}): {(r.stderr or r.stdout).strip()}"))


def apt_download(package: str, dest: Path) -> Path:
    """Download package's .deb into dest with `apt-get download` (no install) and return it.
    When apt's lists lack the package, updates them once and tries again."""
    dest.mkdir(parents=True, exist_ok=True)

    def attempt():
        before = set(dest.glob("*.deb"))
        r = _run(["apt-get", "download", "-q", package], cwd=dest, what=f"download {package}")
        new = sorted(set(dest.glob("*.deb")) - before) or sorted(dest.glob(f"{package}_*.deb"))
        return (new[-1] if r.returncode == 0 and new else None), r

    return _found_after_update(attempt, lambda r: (
        f"apt-get download {package} failed (rc {r.returncode}): {r.stderr.strip()}"))


def _extract(deb: Path, members: Iterable[str], dest: Path) -> list:
    """Unpack deb with dpkg-deb -x into a scratch directory and move the files matching the
    glob patterns members (paths inside the package) into dest; the rest is thrown away (the
    kernel package's modules are 400 MB)."""
    with tempfile.TemporaryDirectory(prefix="linux-peer-", dir=dest) as tmp:
        r = _run(["dpkg-deb", "-x", str(deb), tmp], what=f"unpack {deb.name}")
        if r.returncode != 0:
            raise PeerSetupError(f"dpkg-deb -x {deb.name} failed: {r.stderr.strip()}")
        moved = []
        for pattern in members:
            found = sorted(Path(tmp).glob(pattern))
            if not found:
                raise PeerSetupError(f"{deb.name} has no {pattern}")
            for f in found:
                target = dest / f.name
                shutil.move(str(f), target)
                moved.append(target)
        return moved


@dataclass
class Payload:
    """What a peer boot needs, all under build/linux-peer/."""
    kernel: Path                  # boot/vmlinuz-<release> from the package
    config: Optional[Path]        # boot/config-<release>, where CONFIG_HZ is read
    busybox: Path                 # /bin/busybox of busybox-static

    @property
    def release(self) -> str:
        return self.kernel.name.removeprefix("vmlinuz-")

    @property
    def config_hz(self) -> Optional[int]:
        return config_value_int(self.config, "CONFIG_HZ") if self.config else None


def config_value_int(path: Path, key: str) -> Optional[int]:
    """An integer option of a kernel .config, or None."""
    try:
        text = Path(path).read_text()
    except OSError:
        return None
    m = re.search(rf"^{re.escape(key)}=(\d+)$", text, re.MULTILINE)
    return int(m.group(1)) if m else None


def fetch(dest: Path = PEER_DIR) -> Payload:
    """Debian's kernel and a static busybox in dest, downloaded and unpacked the first time
    only: when a vmlinuz-* and busybox are already there, nothing is run."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    kernels = sorted(dest.glob("vmlinuz-*"))
    if not kernels:
        package = resolve_kernel_package()
        deb = apt_download(package, dest)
        try:
            _extract(deb, ["boot/vmlinuz-*", "boot/config-*"], dest)
        finally:
            deb.unlink(missing_ok=True)
        kernels = sorted(dest.glob("vmlinuz-*"))
    busybox = dest / "busybox"
    if not busybox.exists():
        deb = apt_download(BUSYBOX_PACKAGE, dest)
        try:
            _extract(deb, ["bin/busybox"], dest)
        finally:
            deb.unlink(missing_ok=True)
    kernel = kernels[-1]
    config = dest / ("config-" + kernel.name.removeprefix("vmlinuz-"))
    return Payload(kernel=kernel, config=config if config.exists() else None, busybox=busybox)


# --------------------------------------------------------------------------------------------
# The initramfs: a newc cpio archive, written here rather than with cpio(1)
#
# newc ("SVR4 with no CRC", magic 070701) is what the kernel unpacks (its
# Documentation/driver-api/early-userspace/buffer-format.rst).  Each member is a 110-byte
# ASCII header, thirteen 8-digit hex fields after the magic, then the name with its NUL, padded
# to a multiple of 4 from the start of the header, then the data, padded to 4 likewise.  The
# archive ends with a member named TRAILER!!!.

NEWC_MAGIC = b"070701"
NEWC_FIELDS = ("ino", "mode", "uid", "gid", "nlink", "mtime", "filesize",
               "devmajor", "devminor", "rdevmajor", "rdevminor", "namesize", "check")
NEWC_HEADER_LEN = 6 + 8 * len(NEWC_FIELDS)      # 110
NEWC_TRAILER = "TRAILER!!!"


@dataclass(frozen=True)
class CpioMember:
    name: str                 # path inside the archive, no leading slash
    mode: int                 # file type and permission bits, as in st_mode
    data: bytes = b""         # a file's contents, a symlink's target
    rdev: tuple = (0, 0)      # (major, minor) of a device node
    ino: int = 0
    nlink: int = 1
    uid: int = 0
    gid: int = 0
    mtime: int = 0


def _pad4(n: int) -> bytes:
    return b"\0" * (-n % 4)


def newc_member(m: CpioMember) -> bytes:
    name = m.name.encode() + b"\0"
    values = {"ino": m.ino, "mode": m.mode, "uid": m.uid, "gid": m.gid, "nlink": m.nlink,
              "mtime": m.mtime, "filesize": len(m.data), "devmajor": 0, "devminor": 0,
              "rdevmajor": m.rdev[0], "rdevminor": m.rdev[1], "namesize": len(name),
              "check": 0}
    header = NEWC_MAGIC + b"".join(b"%08X" % values[f] for f in NEWC_FIELDS)
    head = header + name
    return head + _pad4(len(head)) + m.data + _pad4(len(m.data))


def write_newc(members: Iterable[CpioMember]) -> bytes:
    """A newc archive of members, in order, with inode numbers from 1 (the kernel links
    members that share an inode and nlink > 1, so each gets its own) and the trailer."""
    out = []
    for i, m in enumerate(members, start=1):
        out.append(newc_member(CpioMember(m.name, m.mode, m.data, m.rdev, i, m.nlink,
                                          m.uid, m.gid, m.mtime)))
    out.append(newc_member(CpioMember(NEWC_TRAILER, 0, nlink=1)))
    return b"".join(out)


def read_newc(data: bytes) -> list:
    """The members of a newc archive up to its trailer (which is left out); ValueError if it
    is not one.  The host tests read the writer's output back with it."""
    members, pos = [], 0
    while True:
        head = data[pos:pos + NEWC_HEADER_LEN]
        if len(head) < NEWC_HEADER_LEN or head[:6] != NEWC_MAGIC:
            raise ValueError(f"no newc header at offset {pos}")
        v = {f: int(head[6 + 8 * i:14 + 8 * i], 16) for i, f in enumerate(NEWC_FIELDS)}
        name_end = pos + NEWC_HEADER_LEN + v["namesize"]
        raw_name = data[pos + NEWC_HEADER_LEN:name_end]
        if len(raw_name) != v["namesize"] or not raw_name.endswith(b"\0"):
            raise ValueError(f"member name at offset {pos} is not NUL-terminated")
        name = raw_name[:-1].decode()
        pos = name_end + (-name_end % 4)
        body = data[pos:pos + v["filesize"]]
        if len(body) != v["filesize"]:
            raise ValueError(f"{name}: archive ends inside its data")
        pos += v["filesize"] + (-v["filesize"] % 4)
        if name == NEWC_TRAILER:
            return members
        members.append(CpioMember(name, v["mode"], body, (v["rdevmajor"], v["rdevminor"]),
                                  v["ino"], v["nlink"], v["uid"], v["gid"], v["mtime"]))


def _dir(name):
    return CpioMember(name, stat.S_IFDIR | 0o755, nlink=2)


def _chardev(name, major, minor):
    return CpioMember(name, stat.S_IFCHR | 0o600, rdev=(major, minor))


# /init, run by the kernel as PID 1.  It prints only through `say` (LINE_PREFIX lines) and the
# harness's "# running" line; every /proc read is by `read`, a shell builtin, so no fork lands
# inside the measured window except /init's own sleep.  Field numbers of /proc/PID/stat are
# proc(5)'s; after the ")" that ends the command name, field N is positional parameter N - 2.
INIT_SCRIPT = r"""#!/bin/sh
# /init of the linux-peer initramfs, written by tickguest/linux_peer.py: two CPU spinners at nice
# @NICE0@ and @NICE1@ for duration=NNNms (from the kernel command line), then what /proc says.
export PATH=/bin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys

say() { echo "@PREFIX@$*"; }
join() { local IFS=,; echo "$*"; }

ms=${duration%ms}
case "$ms" in ''|*[!0-9]*) ms=@DEFAULT_MS@ ;; esac

cs=/sys/devices/system/clocksource/clocksource0
read up _ < /proc/uptime
read rel < /proc/sys/kernel/osrelease
read cur < $cs/current_clocksource
hz=100
hz_from=assumed
if command -v getconf >/dev/null 2>&1; then hz=$(getconf CLK_TCK); hz_from=getconf; fi
# The kernel starts on tsc-early and moves to tsc once its refined calibration is done, about
# a second in: let it, so the run has the clocksource the kernel keeps (at most 10 s).
n=0
while [ "$cur" = tsc-early ] && [ $n -lt 100 ]; do
	usleep 100000
	read cur < $cs/current_clocksource
	n=$((n + 1))
done
read settled _ < /proc/uptime
read avail < $cs/available_clocksource
say boot release=$rel uptime=$up settled=$settled clocksource=$cur \
	available=$(join $avail) user_hz=$hz user_hz_from=$hz_from

# One line of the machine's clocks and counters: monotonic ns, uptime, jiffies, /proc/stat's
# cpu line and /proc/schedstat's cpu0 line.
snapshot() {
	now=
	if [ -r /proc/timer_list ]; then
		{ read _; read _; read _ _ now _; } < /proc/timer_list
	fi
	read up _ < /proc/uptime
	read _ cpu < /proc/stat
	jiffies=
	rq=
	while read k rest; do
		case $k in
		timestamp) jiffies=$rest ;;
		cpu0) rq=$rest ;;
		esac
	done < /proc/schedstat
	read cur < $cs/current_clocksource
	say $1 now_ns=$now uptime=$up jiffies=$jiffies clocksource=$cur \
		stat=$(join $cpu) schedstat=$(join $rq)
}

# Everything /proc says about one spinner, stopped.
spinner() {
	read -r line < /proc/$1/stat
	set -- $1 ${line##*) }
	pid=$1
	shift
	utime=${12} stime=${13} nice=${17} start=${20}
	sum=
	weight=
	while read -r k _ v; do
		case $k in
		se.sum_exec_runtime) sum=$v ;;
		se.load.weight) weight=$v ;;
		esac
	done < /proc/$pid/sched
	read run wait slices < /proc/$pid/schedstat
	say spinner pid=$pid nice=$nice utime=$utime stime=$stime starttime=$start \
		sum_exec_ms=$sum load_weight=$weight schedstat=$run,$wait,$slices
}

snapshot before
sh -c 'renice -n @NICE0@ -p $$ >/dev/null; while :; do :; done' &
p0=$!
sh -c 'renice -n @NICE1@ -p $$ >/dev/null; while :; do :; done' &
p1=$!
echo "# running 2 tasks for $ms ms"
usleep $((ms * 1000))
kill -STOP $p0 $p1
snapshot after
spinner $p0
spinner $p1
# What the kernel said about its clocks (the console is quiet), for the record.
dmesg | grep -iE 'clocksource|tsc|hpet|sched_clock' | while read -r l; do say kmsg "$l"; done
say end
poweroff -f
"""


def init_script(default_ms: int = int(DEFAULT_DURATION_S * 1000)) -> str:
    return (INIT_SCRIPT.replace("@PREFIX@", LINE_PREFIX).replace("@DEFAULT_MS@", str(default_ms))
            .replace("@NICE0@", str(SPINNER_NICES[0])).replace("@NICE1@", str(SPINNER_NICES[1])))


def initramfs_members(busybox: bytes, script: str = None) -> list:
    script = init_script() if script is None else script
    return [
        _dir("bin"), _dir("dev"), _dir("proc"), _dir("sys"),
        # The kernel opens /dev/console for /init's standard streams before anything mounts
        # devtmpfs: without the node /init would write to nowhere.
        _chardev("dev/console", 5, 1), _chardev("dev/null", 1, 3),
        CpioMember("bin/busybox", stat.S_IFREG | 0o755, busybox),
        CpioMember("bin/sh", stat.S_IFLNK | 0o777, b"busybox"),
        CpioMember("init", stat.S_IFREG | 0o755, script.encode()),
    ]


def build_initramfs(busybox: Path, out: Path = None) -> Path:
    """Write the gzipped newc initramfs (busybox, /init) to out, by default
    build/linux-peer/initramfs.cpio.gz next to busybox.  The same inputs give the same bytes
    (mtime 0 everywhere), so writing it afresh for every boot costs a fraction of a second."""
    busybox = Path(busybox)
    out = Path(out) if out is not None else busybox.parent / "initramfs.cpio.gz"
    archive = write_newc(initramfs_members(busybox.read_bytes()))
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(gzip.compress(archive, mtime=0))
    tmp.replace(out)
    return out


# --------------------------------------------------------------------------------------------
# Reading the guest's lines


def parse_line(text: str) -> Optional[tuple]:
    """("kind", {key: value}) from one `# linux-peer: kind k=v ...` line, else None.  Values
    stay strings; a key with nothing after its = is an empty string."""
    if not text.startswith(LINE_PREFIX):
        return None
    words = text[len(LINE_PREFIX):].split()
    if not words:
        return None
    fields = {}
    for w in words[1:]:
        k, sep, v = w.partition("=")
        if sep:
            fields[k] = v
    return words[0], fields


@dataclass
class PeerLines:
    """What the guest printed, by kind: boot, before, after, end (dicts), spinners (a list),
    the running line's text, and the host's arrival time of each (None when missing)."""
    boot: dict = field(default_factory=dict)
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)
    spinners: list = field(default_factory=list)
    kmsg: list = field(default_factory=list)        # the kernel's clock messages, as text
    running: Optional[str] = None
    ended: bool = False
    times: dict = field(default_factory=dict)       # kind -> host monotonic time (first seen)


def parse_lines(lines: Iterable) -> PeerLines:
    """Read a peer run's serial lines: strings, or (host time, text) pairs as Guest
    keeps them.  Anything else on the serial port (kernel errors) is ignored."""
    out = PeerLines()
    for item in lines:
        t, text = item if isinstance(item, tuple) else (None, item)
        text = clean_line(text)
        if RUNNING_RE.match(text):
            out.running = text
            out.times.setdefault("running", t)
            continue
        parsed = parse_line(text)
        if parsed is None:
            continue
        kind, fields = parsed
        out.times.setdefault(kind, t)
        if kind == "kmsg":
            out.kmsg.append(text[len(LINE_PREFIX) + len("kmsg "):])
        elif kind == "spinner":
            out.spinners.append(fields)
        elif kind == "end":
            out.ended = True
        elif kind in ("boot", "before", "after"):
            getattr(out, kind).update(fields)
    return out


def _ints(csv: str) -> list:
    return [int(x) for x in csv.split(",") if x != ""] if csv else []


def _num(fields: dict, key: str, conv=float):
    v = fields.get(key, "")
    try:
        return conv(v)
    except ValueError:
        return None


# /proc/stat's cpu line, in its order (proc(5)).
STAT_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal",
               "guest", "guest_nice")
# /proc/schedstat's cpuN line (Documentation/scheduler/sched-stats.rst, version 15): the
# seventh field is the time tasks ran on the CPU, ns.
SCHEDSTAT_RUN_FIELD = 6


def stat_delta_ms(before: dict, after: dict, user_hz: int) -> dict:
    """The change in each /proc/stat cpu field over the run, in ms."""
    b, a = _ints(before.get("stat", "")), _ints(after.get("stat", ""))
    return {name: (a[i] - b[i]) * 1000.0 / user_hz
            for i, name in enumerate(STAT_FIELDS) if i < len(a) and i < len(b)}


def guest_run_ms(before: dict, after: dict) -> Optional[float]:
    """The guest's monotonic time between the two snapshots: /proc/timer_list's ns when both
    have it, else /proc/uptime's centiseconds."""
    b, a = _num(before, "now_ns", int), _num(after, "now_ns", int)
    if a is not None and b is not None:
        return (a - b) / 1e6
    b, a = _num(before, "uptime"), _num(after, "uptime")
    if a is not None and b is not None:
        return (a - b) * 1000.0
    return None


def load_weight(raw: Optional[int]) -> Optional[int]:
    """se.load.weight as the nice table has it: 64-bit kernels keep it shifted left by 10
    (scale_load); no nice level's weight exceeds 88761, so anything above is shifted."""
    if raw is None:
        return None
    return raw >> 10 if raw > 88761 else raw


# --------------------------------------------------------------------------------------------
# The result


@dataclass
class SpinnerCharge:
    """What Linux charged one spinner."""
    pid: int
    nice: int
    weight: Optional[int]            # from /proc/PID/sched (se.load.weight)
    utime_ticks: int
    stime_ticks: int
    charged_ms: float                # (utime + stime) / USER_HZ
    sum_exec_ms: Optional[float]     # se.sum_exec_runtime
    run_ns: Optional[int]            # /proc/PID/schedstat: time on the CPU,
    wait_ns: Optional[int]           # time runnable and waiting for it,
    slices: Optional[int]            # times it was given the CPU


def spinner_charge(fields: dict, user_hz: int) -> SpinnerCharge:
    u, s = _num(fields, "utime", int) or 0, _num(fields, "stime", int) or 0
    sched = _ints(fields.get("schedstat", "")) + [None] * 3
    return SpinnerCharge(
        pid=_num(fields, "pid", int), nice=_num(fields, "nice", int),
        weight=load_weight(_num(fields, "load_weight", int)),
        utime_ticks=u, stime_ticks=s, charged_ms=(u + s) * 1000.0 / user_hz,
        sum_exec_ms=_num(fields, "sum_exec_ms"),
        run_ns=sched[0], wait_ns=sched[1], slices=sched[2])


# Below this much stolen time the share is not given: utime + stime come in whole clock ticks
# (10 ms) per spinner, and a share of a few ms of steal would be that rounding, magnified.
SHARE_MIN_STOLEN_MS = 100.0


def share_of_stolen(charged_ms: Optional[float], true_ms: Optional[float],
                    stolen_ms: Optional[float],
                    min_stolen_ms: float = SHARE_MIN_STOLEN_MS) -> Optional[float]:
    """(charged - true) / stolen as a percentage: how much of the stolen time was charged to
    the tasks.  None when it means nothing: a figure missing, or less than min_stolen_ms
    stolen."""
    if charged_ms is None or true_ms is None or stolen_ms is None or stolen_ms < min_stolen_ms \
            or stolen_ms <= 0:
        return None
    return (charged_ms - true_ms) / stolen_ms * 100.0


def true_ms(run_ms: Optional[float], stolen_ms: float, other_ms: float = 0.0) -> Optional[float]:
    """The time the spinners could really have run: the run less what the host took and what
    the guest spent on anything else (the module docstring has the reasoning)."""
    if run_ms is None:
        return None
    return run_ms - stolen_ms - other_ms


@dataclass
class PeerResult:
    ok: bool                          # booted, ran, printed everything and powered off
    problem: Optional[str]            # why not, when not ok
    kernel_release: Optional[str]
    clocksource: Optional[str]        # what the guest's kernel used when the run began
    clocksource_end: Optional[str]    # and at its end
    clocksources: list                # what it had to choose from
    config_hz: Optional[int]          # from the package's config file
    measured_hz: Optional[float]      # jiffies over the run / its length
    user_hz: int
    boot_s: Optional[float]           # host seconds from QEMU's start to the before line
    init_uptime_s: Optional[float]    # the guest's uptime when /init began
    run_ms: Optional[float]           # T: the guest's monotonic time of the run
    host_run_ms: Optional[float]      # W: the host's time between the before and after lines
    spinners: list                    # SpinnerCharge, nice 0 first
    charged_ms: Optional[float]       # C: Σ utime + stime, ms
    sum_exec_ms: Optional[float]      # Σ se.sum_exec_runtime
    other_ms: float                   # O: the guest's other tasks over the run
    stat_ms: dict                     # /proc/stat cpu line change per field, ms
    steal_ms: Optional[float]         # its steal field
    stolen_ms: float                  # S: what the host says it took, as the caller measured
    true_ms: Optional[float]          # W - S - O (T - S - O without host times)
    share_pct: Optional[float]        # (C - true) / S
    share_exec_pct: Optional[float]   # the same from sum_exec_runtime
    kmsg: list = field(default_factory=list)   # the kernel's messages about its clocks
    host: dict = field(default_factory=dict)   # the host's figures behind S, for the record
    result: Optional[Result] = None

    @property
    def stat_ticked_ms(self) -> Optional[float]:
        """Every /proc/stat field added up: the time the kernel's ticks sampled over the run."""
        return sum(v for k, v in self.stat_ms.items() if k not in ("guest", "guest_nice")) \
            if self.stat_ms else None


def summarize(lines: PeerLines, stolen_ms: float, host: dict = None,
              config_hz: Optional[int] = None) -> PeerResult:
    """The record of a run from what the guest printed and the host's stolen time, with no
    QEMU in sight (the host tests call it directly).  ok and problem say only whether the
    guest printed everything; run_peer adds how QEMU ended."""
    missing = [k for k in ("boot", "before", "after") if not getattr(lines, k)]
    if lines.running is None:
        missing.append("running")
    if len(lines.spinners) != len(SPINNER_NICES):
        missing.append(f"{len(SPINNER_NICES)} spinner lines (have {len(lines.spinners)})")
    if not lines.ended:
        missing.append("end")
    user_hz = _num(lines.boot, "user_hz", int) or ASSUMED_USER_HZ
    spinners = sorted((spinner_charge(f, user_hz) for f in lines.spinners),
                      key=lambda s: (s.nice is None, s.nice))
    run = guest_run_ms(lines.before, lines.after)
    charged = sum(s.charged_ms for s in spinners) if spinners else None
    execs = [s.sum_exec_ms for s in spinners]
    sum_exec = sum(execs) if execs and None not in execs else None

    # O: all tasks' run time on cpu0 over the run (/proc/schedstat), less the spinners'.
    rq_b, rq_a = _ints(lines.before.get("schedstat", "")), _ints(lines.after.get("schedstat", ""))
    other = 0.0
    if len(rq_b) > SCHEDSTAT_RUN_FIELD and len(rq_a) > SCHEDSTAT_RUN_FIELD and sum_exec is not None:
        rq_ms = (rq_a[SCHEDSTAT_RUN_FIELD] - rq_b[SCHEDSTAT_RUN_FIELD]) / 1e6
        other = max(0.0, rq_ms - sum_exec)
    t = lines.times
    host_run = ((t["after"] - t["before"]) * 1000.0
                if t.get("after") is not None and t.get("before") is not None else None)
    tru = true_ms(host_run if host_run is not None else run, stolen_ms, other)

    stat_ms = stat_delta_ms(lines.before, lines.after, user_hz)
    jb, ja = _num(lines.before, "jiffies", int), _num(lines.after, "jiffies", int)
    measured_hz = (ja - jb) / (run / 1000.0) if None not in (ja, jb) and run else None
    return PeerResult(
        ok=not missing, problem=("missing: " + ", ".join(missing)) if missing else None,
        kernel_release=lines.boot.get("release"), clocksource=lines.boot.get("clocksource"),
        clocksource_end=lines.after.get("clocksource"), kmsg=list(lines.kmsg),
        clocksources=[c for c in lines.boot.get("available", "").split(",") if c],
        config_hz=config_hz, measured_hz=measured_hz, user_hz=user_hz,
        boot_s=None, init_uptime_s=_num(lines.boot, "uptime"), run_ms=run,
        host_run_ms=host_run, spinners=spinners,
        charged_ms=charged, sum_exec_ms=sum_exec, other_ms=other,
        stat_ms=stat_ms, steal_ms=stat_ms.get("steal"), stolen_ms=stolen_ms, true_ms=tru,
        share_pct=share_of_stolen(charged, tru, stolen_ms),
        share_exec_pct=share_of_stolen(sum_exec, tru, stolen_ms),
        host=dict(host or {}))


# --------------------------------------------------------------------------------------------
# The host's ground truth


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def host_stolen_parts(g: Guest, t0: float, t1: float) -> dict:
    """What the host took from the vCPU between monotonic times t0 and t1, in seconds, by
    kind: "pauses", the part of every applied pause (Guest.pauses) inside the window;
    "runqueue_wait", how long the vCPU thread was runnable without a CPU, from the samples of
    Guest.vcpu_samples that bracket the window (their third element, ns; the Guest must be
    made with sample_vcpu=True, else it is 0); and "vcpu_off_cpu", the harness's upper bound
    on the vCPU's time off the CPU over the window, for comparison (None without samples).
    A stopped thread is not runnable, so the first two never count the same time twice."""
    pauses = sum(_overlap(s, e, t0, t1) for s, e in g.pauses)
    wait, off = 0.0, None
    samples = list(g.vcpu_samples)
    if samples:
        a, b = Guest._bracket(samples, t0, t1)
        wait = max(0, b[2] - a[2]) / 1e9
        off = g.vcpu_off_cpu_s(t0, t1)
    return {"pauses": pauses, "runqueue_wait": wait, "vcpu_off_cpu": off}


def host_stolen_s(g: Guest, t0: float, t1: float) -> float:
    """The stolen time of the run, the default ground truth: Σ pauses plus the vCPU thread's
    run-queue wait, over [t0, t1] (host_stolen_parts has the details)."""
    p = host_stolen_parts(g, t0, t1)
    return p["pauses"] + p["runqueue_wait"]


# --------------------------------------------------------------------------------------------
# A run


def cmdline_for(duration_s: float, extra: str = "") -> str:
    ms = int(round(duration_s * 1000))
    return f"{BASE_CMDLINE} duration={ms}ms {extra}".strip()


def timeout_for(duration_s: float) -> float:
    return BOOT_ALLOWANCE_S + DURATION_FACTOR * duration_s


def run_peer(duration_s: float = DEFAULT_DURATION_S,
             deschedule: Optional[Callable[[Guest], object]] = None,
             stolen: Callable[[Guest, float, float], float] = host_stolen_s,
             payload: Payload = None, extra_cmdline: str = "", timeout: float = None,
             memory: str = MEMORY, qmp: bool = False, on_line=None) -> PeerResult:
    """Boot the Linux peer once: duration_s of two spinners, descheduled by deschedule(guest)
    (called once QEMU has started, before waiting for the result; None for an undisturbed
    run), e.g.

        run_peer(12, lambda g: g.run_pauses(FixedPauses(period_s=0.5, duty=0.3)))

    (run_pauses' default horizon is the run less a second, read from duration= on the
    command line).  The host's stolen time over the run comes from stolen(guest, t0, t1),
    called after QEMU has exited with the host times of the "before" and "after" lines;
    host_stolen_s by default.  The Guest samples its vCPU (sample_vcpu=True) for it; qmp=True
    gives it a QMP socket, for a deschedule that pauses with method="qmp".  on_line is Guest's
    (called with every serial line as it arrives).

    Never raises for a guest that misbehaves: the record's ok and problem say what went wrong
    and .result has the harness's Result (its status is 125, "no verdict", for a clean power
    off: Linux leaves through ACPI, QEMU exits 0, and that is the expected end here).  Raises
    PeerSetupError when the kernel or busybox cannot be had."""
    payload = payload or fetch()
    initrd = build_initramfs(payload.busybox)
    timeout = timeout if timeout is not None else timeout_for(duration_s)
    with Guest(kernel=payload.kernel, cmdline=cmdline_for(duration_s, extra_cmdline),
                       extra_args=["-initrd", str(initrd), *QEMU_ARGS], memory=memory,
                       timeout=timeout, debug_exit=False, sample_vcpu=True, qmp=qmp,
                       on_line=on_line) as g:
        if deschedule is not None:
            deschedule(g)
        r = g.wait()
    lines = parse_lines(r.all_lines)
    t0, t1 = lines.times.get("before"), lines.times.get("after")
    host, stolen_s = {}, 0.0
    if t0 is not None and t1 is not None:
        host = host_stolen_parts(g, t0, t1)
        stolen_s = stolen(g, t0, t1)
    host["pauses_applied"] = len(g.pauses)
    rec = summarize(lines, stolen_s * 1000.0, host, payload.config_hz)
    rec.result = r
    rec.boot_s = t0 - r.started if t0 is not None else None
    problems = [rec.problem] if rec.problem else []
    if r.timed_out:
        problems.append(f"timed out after {r.duration:.0f} s")
    elif r.qemu_rc != 0:
        problems.append(f"QEMU exited with {r.qemu_rc}, not 0 (a clean power off)")
    rec.ok = rec.ok and not r.timed_out and r.qemu_rc == 0
    if not rec.ok and r.stderr.strip():
        problems.append("QEMU said: " + r.stderr.strip().splitlines()[-1])
    rec.problem = "; ".join(problems) or None
    return rec
