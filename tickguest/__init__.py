"""tickguest's host side: boot the guest, take the CPU from it the ways a real host does, read
its serial report, and hold the report to what the host knows it did.

One module per concern; the names most callers need are importable from the package itself
(`import tickguest as tg; tg.Guest(...)`), the rest from their modules.

  machine      the QEMU binary, the arguments the tests share, KVM, UEFI firmware, timeouts
  qemu         Guest (one QEMU run: launch, serial lines, kill), Result, run()
  bochs        the same for Bochs, from an ISO
  isos         an ISO per command line (GRUB, BIOS and UEFI)
  status       the statuses a run ends with (docs/exit-status.md)
  tap          serial text cleaned, and read as TAP 13 with YAML (docs/report.md)
  consistency  whether a report holds together and agrees with its status
  report_lines the guest's own figures, read from a report's lines
  pauses       pause schedules (plain data)
  deschedule   applying them (SIGSTOP, QMP stop), and caps and contention
  host_steal   the host loads that leave the VM runnable without the CPU (cgroup cap,
               contention on the vCPU's CPU)
  qmp          the little of QEMU's machine protocol the harness needs
  vcpu         what /proc says of QEMU's threads, sampled through a run
  ground_truth the host's bounds on what the guest may call stolen
  judge        a serial log captured anywhere turned into a verdict, TAP and HTML
  report_html  the HTML page of one or more runs
  demo         the default run (`make run`): the sponge off and on, side by side
  cli          the `tickguest` command (scripts/tickguest, `python3 -m tickguest`)
  linux_peer, timer_profile   the benchmarks' helpers

It keeps to the standard library plus PyYAML (Debian's python3-yaml).
"""

from .consistency import check_consistent
from .deschedule import RUNNING_LINE, UNPAUSED_TAIL_S, HostStealError, PauseThreadError
from .host_steal import Contention, CpuCap, HostSteal
from .machine import (BOOT_ALLOWANCE_S, DEBUG_EXIT_DEVICE, DEFAULT_DURATION_S, GRUB_ALLOWANCE_S,
                      ICOUNT_ARGS, OVMF_PATHS, RTC_SLEW, UEFI_ALLOWANCE_S, cmdline_duration_s,
                      icount_args, kvm_available, ovmf_path, qemu_binary, timeout_for)
from .pauses import FixedPauses, OnePause, PauseSchedule, RandomPauses
from .qemu import Guest, Result, keep_log, kvm_runs_guest, run
from .qmp import QMPClient, QMPError
from .status import (STATUS_NAMES, STATUS_NO_VERDICT, STATUS_TIMEOUT, decode_status,
                     status_name)
from .tap import Tap, TapTest, clean_line, parse_tap
from .vcpu import VCPU_SAMPLE_PERIOD_S, host_tick_s, vcpu_thread_name

__all__ = [
    "check_consistent",
    "RUNNING_LINE", "UNPAUSED_TAIL_S", "HostStealError", "PauseThreadError",
    "Contention", "CpuCap", "HostSteal",
    "BOOT_ALLOWANCE_S", "DEBUG_EXIT_DEVICE", "DEFAULT_DURATION_S", "GRUB_ALLOWANCE_S",
    "ICOUNT_ARGS", "OVMF_PATHS", "RTC_SLEW", "UEFI_ALLOWANCE_S", "cmdline_duration_s",
    "icount_args", "kvm_available", "ovmf_path", "qemu_binary", "timeout_for",
    "FixedPauses", "OnePause", "PauseSchedule", "RandomPauses",
    "Guest", "Result", "keep_log", "kvm_runs_guest", "run",
    "QMPClient", "QMPError",
    "STATUS_NAMES", "STATUS_NO_VERDICT", "STATUS_TIMEOUT", "decode_status", "status_name",
    "Tap", "TapTest", "clean_line", "parse_tap",
    "VCPU_SAMPLE_PERIOD_S", "host_tick_s", "vcpu_thread_name",
]
