"""The default run (`make run`, `tickguest demo`): the point of tickguest in one table.

A VM is descheduled; when it runs again its clock device owes it the ticks it missed and
delivers them fast (catch-up), and tick-sampling accounting charges that stolen time to
whichever task runs then.  VMware's VMDesched ("timer sponge") gave the catch-up ticks a task
of their own.  Here the host stops QEMU on a fixed schedule (SIGSTOP, SCHEDULE) while the
guest ticks from QEMU's RTC in slew mode, its one catch-up device, through the IOAPIC; it does
so twice, with the sponge off and with it on, and prints, side by side, the stolen time the host
injected and the guest saw, and how much of it each accounting method charged to the workload
(the guest's own `# stolen time charged to the workload:` line).  The full reports go to log
files it names.
"""

import os
from dataclasses import dataclass
from typing import Optional

from .machine import RTC_SLEW
from .pauses import FixedPauses
from .qemu import Guest, Result
from . import report_lines

SCHEDULE = FixedPauses(period_s=1.0, duty=0.3)      # 300 ms of every second
DURATION_S = 8
HZ = 128
CMDLINE = f"suite=accounting timer=rtc irq=ioapic hz={HZ} duration={DURATION_S}s sponge={{}}"
SPONGES = (("off", "sponge off"), ("run", "sponge on (VMDesched)"))
# The table's rows: what each method is called there, and its key in report_lines.shares().
METHODS = (("plain sampling (ticks)", report_lines.PLAIN),
           ("steal-aware sampling", report_lines.STEAL_AWARE), ("exact (TSC)", "exact"))


@dataclass
class DemoRun:
    label: str
    result: Result
    paused_ms: float
    waited_ms: float                    # the vCPU thread runnable with no CPU (the host's load)
    log: str
    shares: Optional[dict] = None       # report_lines.shares(), None if the line is missing

    @property
    def status(self) -> int:
        return self.result.status


def run_one(kernel, sponge: str, label: str, log_dir: str, accel: str = "tcg",
            extra_args=()) -> DemoRun:
    g = Guest(kernel=kernel, cmdline=CMDLINE.format(sponge), accel=accel,
                      extra_args=[*RTC_SLEW, *extra_args], sample_vcpu=True)
    with g:
        g.run_pauses(SCHEDULE)
        r = g.wait()
    log = os.path.join(log_dir, f"demo-sponge-{sponge}.tap")
    with open(log, "w", encoding="utf-8") as f:
        f.write("".join(text + "\n" for _, text in r.lines))
    try:
        shares = report_lines.shares(r)
    except LookupError:             # a run that ended early: the verdict says why
        shares = None
    try:
        waited = g.vcpu_runqueue_wait_s() * 1000
    except LookupError:             # QEMU never started its vCPU: the verdict says why
        waited = float("nan")
    return DemoRun(label, r, sum(e - s for s, e in g.pauses) * 1000, waited, log, shares)


def table(runs: list) -> str:
    """The side-by-side table a person reads in ten seconds."""
    out = [f"tickguest: a VM descheduled by {SCHEDULE.describe()}, by SIGSTOP of QEMU;",
           f"its RTC ticks at {HZ} Hz with QEMU's catch-up (-rtc driftfix=slew).  The stolen time,",
           "and how much of it each way of charging CPU time gave the workload (spinners a, b):",
           "",
           f"{'':38}" + "".join(f"{r.label:>24}" for r in runs)]

    def row(name, cells):
        out.append(f"  {name:36}" + "".join(f"{c:>24}" for c in cells))

    row("host stopped QEMU for", [f"{r.paused_ms:.0f} ms" for r in runs])
    row("host kept the vCPU waiting for", [f"{r.waited_ms:.0f} ms" for r in runs])
    row("stolen time the guest saw",
        [f"{r.shares['stolen_ms']:.0f} ms" if r.shares else "-" for r in runs])
    out.append("  charged to the workload by")
    for name, key in METHODS:
        row("  " + name, [f"{r.shares[key] * r.shares['stolen_ms'] / 100:.0f} ms "
                          f"{r.shares[key]:5.1f} %" if r.shares else "-" for r in runs])
    out.append("")
    out.append("  The sponge takes the catch-up ticks a stop leaves; time taken in slices shorter")
    out.append("  than a tick (the host's load: the waiting above) has no catch-up, so plain")
    out.append("  sampling still charges it, with or without the sponge. Steal-aware sampling")
    out.append("  takes off what the guest's probes saw; exact time charges the stopped task all.")
    out.append("  verdicts: " + ", ".join(f"{r.label} {r.result.status_name} (status {r.status})"
                                         for r in runs))
    out.append("  full reports: " + ", ".join(r.log for r in runs))
    return "\n".join(out)


def status_of(runs: list) -> int:
    """The first run's status that is not 0, else 0: the demo passes only if every run did."""
    return next((r.status for r in runs if r.status != 0), 0)
