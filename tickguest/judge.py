"""A serial log captured anywhere (VMware, VirtualBox, Hyper-V, Bochs, QEMU's -serial file:)
turned into what the harness makes of a live run: the guest's verdict, a clean TAP file and
the HTML page.

A captured log is the port's bytes with whatever else shared the line: the firmware's and
GRUB's screen-drawing escapes, \\r line ends, make's echo of a command before the guest's
first line.  judge() drops everything before `TAP version 13`, cleans every line as the harness
does (clean_line: escapes and control characters, \\r included), and reads the report
with the harness's own parser.  The verdict is the status of the guest's `# exit:` line, held
to docs/report.md by check_consistent: a log cut short, or one that contradicts its own
exit line, gives no verdict (status 125), saying why.

No host clock saw the lines arrive, so the page's time axis is the guest's own: each line is
placed at the last time stamp the guest printed before it (`TimeTrackerStats at T s`,
`TimeTrackerBacklog at T s`: seconds since the accounting run started), the lines before the
first stamp at 0.
"""

import re
from dataclasses import dataclass, field

from .consistency import check_consistent
from .status import STATUS_NO_VERDICT, status_name
from .tap import Tap, clean_line, parse_tap
from . import report_lines

HEADER_RE = re.compile(r"TAP version \d+\s*$")
STAMP_RES = (report_lines.STATS_RE, report_lines.BACKLOG_RE)


@dataclass
class Judged:
    status: int                 # the guest's, or STATUS_NO_VERDICT
    lines: list                 # the report's lines, cleaned, from `TAP version` on
    times: list                 # each line's time by the guest's stamps, seconds
    tap: Tap
    problems: list = field(default_factory=list)    # why there is no verdict, if there is none
    noise: int = 0              # lines before the report: firmware, GRUB, a shell's echo

    @property
    def status_name(self) -> str:
        return status_name(self.status)

    def tap_text(self) -> str:
        """The report as a TAP file: the cleaned lines, each ended by \\n."""
        return "".join(line + "\n" for line in self.lines)

    def record(self, name: str) -> dict:
        """A run record for report_html (its module docstring), on the guest's time axis."""
        return {
            "name": name,
            "cmdline": self.tap.banner.get("cmdline", ""),
            "qemu_args": [],
            "started": 0.0,
            "pauses": [],
            "lines": [[t, text] for t, text in zip(self.times, self.lines)],
            "method": "unknown",
            "status": self.status,
            "clock": "guest",
        }


def split_lines(data) -> list:
    """The log's lines, cleaned; bytes or text, \\n, \\r\\n or a lone \\r between them."""
    if isinstance(data, (bytes, bytearray)):
        data = bytes(data).decode("utf-8", errors="replace")
    return [clean_line(line) for line in re.split(r"\r\n|\n|\r(?!\n)", data)]


def guest_times(lines: list) -> list:
    """Each line's time by the last stamp the guest printed at or before it."""
    now, out = 0.0, []
    for text in lines:
        for regex in STAMP_RES:
            m = regex.match(text)
            if m:
                now = float(m.group(1))
                break
        out.append(now)
    return out


def judge(data) -> Judged:
    """The verdict, the report and its times from a captured serial log (bytes or text)."""
    lines = split_lines(data)
    start = next((i for i, text in enumerate(lines) if HEADER_RE.search(text)), None)
    if start is None:
        return Judged(STATUS_NO_VERDICT, [], [], parse_tap([]),
                      ["no 'TAP version 13' line in the log: not a tickguest report"],
                      noise=len(lines))
    # a header glued to the firmware's last line ("...GRUB...TAP version 13") is cut free
    lines = [HEADER_RE.search(lines[start]).group(0).rstrip()] + lines[start + 1:]
    while lines and not lines[-1].strip():
        lines.pop()
    tap = parse_tap(lines)
    if tap.exit_line is None:
        status, problems = STATUS_NO_VERDICT, \
            ["no '# exit: WORD (status N)' line: the log ends before the guest's verdict"]
    else:
        status = tap.exit_line[1]
        problems = check_consistent(tap, status)
        if problems:
            status = STATUS_NO_VERDICT
    return Judged(status, lines, guest_times(lines), tap, problems, noise=start)
