"""A stand-in for QEMU, for the host-only tests of tests/unit_py (Guest's qemu= option).

The script prints `TAP version 13` and `# running 2 tasks for N ms`, the line run_pauses and
run_host_steal start at, then `# tick n` every 10 ms of its run, for as long as the command
line's duration= says (0.5 s by default), and exits with status 77 (or exit=N's).  Like QEMU
under TCG, its clock goes on through a SIGSTOP and stands still through a QMP stop ("stop",
"cont", "query-status" are served on the -qmp socket, with QEMU's events).  Words on its
command line:

  silent      prints nothing and only sleeps out its duration
  exit=N      ends with guest status N instead of 77
  vcpu=spin   has a thread named "CPU 0/TCG", as QEMU names its vCPU, that keeps a CPU busy

SIGUSR1 makes it start one more thread, "late worker", which sleeps: a thread created after the
host acted on the others (a CPU cap must hold it too).
"""

import stat
from pathlib import Path

FAKE_QEMU = r'''#!/usr/bin/python3
# Stands in for qemu-system-x86_64 in tests/unit_py (fake_qemu.py says what it does).
import hashlib, json, os, re, signal, socket, sys, threading, time

args = sys.argv[1:]
cmdline = args[args.index("-append") + 1] if "-append" in args else ""
m = re.search(r"duration=([\d.]+)s", cmdline)
run_s = float(m.group(1)) if m else 0.5
m = re.search(r"exit=(\d+)", cmdline)
status = int(m.group(1)) if m else 77
running = threading.Event()
running.set()
out = threading.Lock()

def say(text):
    with out:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

def serve(conn):
    f = conn.makefile("rwb", buffering=0)
    def send(obj):
        f.write(json.dumps(obj).encode() + b"\r\n")
    send({"QMP": {"version": {"fake": True}, "capabilities": []}})
    for line in f:
        req = json.loads(line)
        cmd, rid = req["execute"], req.get("id")
        if cmd == "qmp_capabilities":
            send({"return": {}, "id": rid})
        elif cmd in ("stop", "cont"):
            if cmd == "stop":
                running.clear()
                say("# vm stopped")
            else:
                running.set()
                say("# vm running")
            # an event first, as QEMU sends it: the client must skip it
            send({"event": "STOP" if cmd == "stop" else "RESUME", "timestamp": {}})
            send({"return": {}, "id": rid})
        elif cmd == "query-status":
            send({"return": {"running": running.is_set()}, "id": rid})
        else:
            send({"error": {"class": "CommandNotFound",
                            "desc": "The command %s has not been found" % cmd}, "id": rid})

def named_thread(name, target):
    """Start target in a thread named name, as QEMU's -name debug-threads=on names its threads
    (the name is the thread's comm), returning once the name is set, as QEMU's are."""
    named = threading.Event()
    def run():
        with open("/proc/self/task/%d/comm" % threading.get_native_id(), "w") as f:
            f.write(name)
        named.set()
        target()
    threading.Thread(target=run, daemon=True).start()
    named.wait()

def spin():
    # hashing a large buffer runs in C with the GIL released, so this thread keeps a CPU busy
    # the way a vCPU does, instead of taking turns with the main thread.  Between two hashes it
    # must take the GIL back, and while the main thread holds it this thread sleeps, neither
    # running nor waiting for a CPU; 32 MiB (some 40 ms of hashing) makes that rare enough that
    # the thread is runnable all the time, as a vCPU is, which the tests' run-queue bounds
    # assume (with 1 MiB it took the GIL back 750 times a second and slept some 6 times a
    # second for it; with 32 MiB, none in 2 s)
    block = bytes(1 << 25)
    while True:
        hashlib.sha256(block).digest()

if "vcpu=spin" in cmdline:
    named_thread("CPU 0/TCG", spin)
# a thread started on request, after the host has acted on the ones already there
signal.signal(signal.SIGUSR1, lambda *_: named_thread("late worker", lambda: time.sleep(3600)))

if "-qmp" in args:
    path = args[args.index("-qmp") + 1].split(",")[0][len("unix:"):]
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    threading.Thread(target=lambda: serve(srv.accept()[0]), daemon=True).start()

if "silent" not in cmdline:
    say("TAP version 13")
    say("# running 2 tasks for %d ms" % (run_s * 1000))
    # the run's clock: wall time, less the time QMP kept the vCPUs stopped
    ran, last, n = 0.0, time.monotonic(), 0
    while ran < run_s:
        time.sleep(0.01)
        now = time.monotonic()
        if running.is_set():
            ran += now - last
            n += 1
            say("# tick %d" % n)
        last = now
    say("1..0")
    say("# exit: %s (status %d)" % ("skipped" if status == 77 else "done", status))
    sys.exit(status << 1 | 1)
time.sleep(run_s)
sys.exit(status << 1 | 1)
'''


def write_fake_qemu(directory) -> str:
    """The script as an executable qemu-system-x86_64 in directory; returns its path."""
    path = Path(directory) / "qemu-system-x86_64"
    path.write_text(FAKE_QEMU)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)
