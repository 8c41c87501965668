"""One self-contained HTML page from accounting runs: how the hypervisor delivered the ticks.

The page is docs/report-html.md.  Its input is a list of run records, plain dicts that survive
json.dump, so a harness can save its runs and scripts/report-html can draw them later:

    {"name":      "rtc slew, 2 pauses",           # what the run is called on the page
     "cmdline":   "suite=accounting timer=rtc ...",  # the guest's command line
     "qemu_args": ["qemu-system-x86_64", ...],   # QEMU's full argv
     "started":   1234.5,                        # host time.monotonic() when QEMU started
     "pauses":    [[1236.1, 1236.4], ...],       # host monotonic [start, end] of each pause
     "lines":     [[1235.0, "TAP version 13"], ...],  # serial lines, host arrival time first
     "method":    "signal",                      # how it was paused: signal, qmp or none
     "status":    0,                             # optional: the host's status (Result)
     "host_check": {"test": "test_matrix[...]",  # optional: what the host's own test made of
                    "outcome": "failed",         #   the run, against its ground truth
                    "message": "AssertionError: ..."},
     "load":      [4.1, 4.3, 4.0],               # optional: the host's load average at its end
     "clock":     "host"}                        # optional: "guest" when the times are the
                                                 # guest's own stamps (tickguest/judge.py)

Everything the guest says is read back from "lines" (docs/timekeeping.md has the formats).  Guest
lines are put on the host's time axis by their arrival time less "started": under QEMU a line
reaches the serial pipe within a millisecond or so of being printed, and the pauses are known
only in host time.

Plots are PNGs drawn by matplotlib (Debian's python3-matplotlib) with the Agg renderer and
embedded as data: URIs, so the page needs nothing beside it.  matplotlib is imported only when a
page is drawn: reading a run needs nothing beyond the tickguest package.
"""

from __future__ import annotations

import base64
import datetime
import html
import io
import os
import platform
import re
import subprocess
from dataclasses import dataclass, field
from typing import Optional

from .machine import qemu_binary
from .status import status_name
from .tap import Tap, parse_tap
from . import report_lines
from .report_lines import ACCOUNTING_RE, DEVICE_RE

# --------------------------------------------------------------------------------------------
# The guest's other lines (report_lines reads the timekeeping ones)

TABLE_HEADER_RE = re.compile(r"^# task\s+ticks\s+catchup\s+sampled_ms\b")
RUNNING_RE = re.compile(r"^# running (\d+) tasks")
# Lines about the accounting methods as a whole, shown above a run's figures: the share of the
# stolen time each method charged to the workload (older reports: the sponge-off bias lines).
NOTE_RE = re.compile(r"^# ((?:stolen time charged to the workload|sponge off): .*)$")

METHODS = {
    "signal": "SIGSTOP/SIGCONT of QEMU's process group",
    "qmp": "QMP stop/cont",
    "cap": "a CPU cap on QEMU's threads (cgroup quota); the band is while it held",
    "contention": "busy processes on the vCPU thread's host CPU; the band is while they ran",
    "none": "not paused",
    "unknown": "not known: a log captured outside the harness (tickguest/judge.py)",
}

# What each way of charging CPU time is called on the page, in the order the bars are drawn.
CHARGES = [
    ("sampled_ms", "sampled (ticks x period)"),
    ("steal_aware_ms", "steal-aware (ticks less the steal seen)"),
    ("exact_ms", "exact (TSC, stolen time included)"),
    ("true_ms", "true (exact less stolen)"),
    ("w_corrected_ms", "sampled x w"),
]

MISSING = "not in this run"


@dataclass
class Stats:
    """One TimeTrackerStats line pair, at host seconds since QEMU started."""
    x: float
    guest_s: float
    behind_ms: float
    at_most_ms: float
    running_pct: float
    stolen_ms: float


@dataclass
class Backlog:
    """One TimeTrackerBacklog line.  x is when it closed (the line is printed then), in host
    seconds since QEMU started; it opened closed_ms before."""
    x: float
    guest_s: float
    peak_ticks: int
    catchup: int
    lost: int
    closed_ms: float

    @property
    def opened_x(self) -> float:
        return self.x - self.closed_ms / 1000


@dataclass
class RunView:
    """A run record read once: everything the page shows about it."""
    name: str
    method: str
    cmdline: str
    qemu_args: list
    pauses: list                      # [(start, end)] in host seconds since QEMU started
    tap: Tap
    host_status: Optional[int]
    stats: list = field(default_factory=list)          # [Stats]
    device: list = field(default_factory=list)         # [(x, catchup total, lost total)]
    backlogs: list = field(default_factory=list)       # [Backlog]
    tasks: dict = field(default_factory=dict)          # name -> {charge key: ms}
    table: dict = field(default_factory=dict)          # name -> accounting table row
    tasks_start: Optional[float] = None
    accounting_stolen_ms: Optional[float] = None
    notes: list = field(default_factory=list)
    last_x: float = 0.0
    time_base: str = "host"           # whose seconds the times are: "host" or "guest"
    host_check: Optional[dict] = None  # the host's test of the run (the record's host_check)
    load: Optional[list] = None

    # -- verdict

    @property
    def verdict(self) -> str:
        """The guest's own word from its `# exit:` line, else what the host saw."""
        if self.tap.exit_line is not None:
            word, status = self.tap.exit_line
            return f"{word} (status {status})"
        if self.host_status is not None:
            return f"no exit line; host: {status_name(self.host_status)} " \
                   f"(status {self.host_status})"
        return "no exit line"

    @property
    def passed(self) -> bool:
        return self.tap.exit_line is not None and self.tap.exit_line[1] == 0

    # -- the guest's checks

    def check(self, prefix: str) -> Optional[dict]:
        """The YAML of the first check whose description starts with prefix, or None."""
        for t in self.tap.tests:
            if t.description.startswith(prefix) and t.yaml:
                return t.yaml
        return None

    @property
    def clock(self) -> Optional[dict]:
        for t in self.tap.tests:
            if " tick time never ran ahead of the " in t.description and t.yaml:
                return t.yaml
        return None

    @property
    def sponge(self) -> Optional[dict]:
        return self.check("sponge absorbed")

    @property
    def tick_hz(self) -> Optional[float]:
        for t in self.tap.tests:
            if " ticks at the programmed rate" in t.description and t.yaml \
                    and "programmed_hz" in t.yaml:
                return float(t.yaml["programmed_hz"])
        return None

    # -- figures the page compares

    @property
    def paused_ms(self) -> float:
        return sum(e - s for s, e in self.pauses) * 1000

    @property
    def stolen_seen_ms(self) -> Optional[float]:
        """All the stolen time the guest's busy loops saw: the accounting line, else the sponge
        check, else the last stats line."""
        if self.accounting_stolen_ms is not None:
            return self.accounting_stolen_ms
        if self.sponge and "stolen_seen_ms" in self.sponge:
            return float(self.sponge["stolen_seen_ms"])
        if self.stats:
            return self.stats[-1].stolen_ms
        return None

    def time_window(self) -> tuple:
        """The host-time span the three time plots share: the tasks' run and the pauses."""
        xs = [s.x for s in self.stats] + [b.opened_x for b in self.backlogs] + \
             [b.x for b in self.backlogs] + [x for p in self.pauses for x in p]
        if self.tasks_start is not None:
            xs.append(self.tasks_start)
        if not xs:
            return 0.0, max(self.last_x, 1.0)
        lo, hi = min(xs), max(xs)
        pad = max(0.03 * (hi - lo), 0.1)
        return max(0.0, lo - pad), hi + pad


def _cmdline_of(argv: list) -> str:
    if "-append" in argv and argv.index("-append") + 1 < len(argv):
        return argv[argv.index("-append") + 1]
    return ""


def record_from(result, pauses, name: str, method: str = "signal") -> dict:
    """A run record (see the module's docstring) from a Result and the pauses the
    caller made, as [(start, end)] of host time.monotonic()."""
    if method not in METHODS:
        raise ValueError(f"method {method!r}: expected one of {', '.join(METHODS)}")
    return {
        "name": name,
        "cmdline": _cmdline_of(result.argv) or result.tap.banner.get("cmdline", ""),
        "qemu_args": [str(a) for a in result.argv],
        "started": float(result.started),
        "pauses": [[float(s), float(e)] for s, e in pauses],
        "lines": [[float(t), text] for t, text in result.lines],
        "method": method,
        "status": result.status,
        "load": list(os.getloadavg()),
    }


def about_host(runs: list, emulator: str = None) -> dict:
    """What the page's header says about where the runs were made: the guest's version (from
    the first run's banner), the repository's commit, the emulator's version, the host's
    kernel and the date."""
    def first_line(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=20,
                                  cwd=os.path.dirname(os.path.abspath(__file__))
                                  ).stdout.splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "unknown"
    version = next((parse_tap([t for _, t in r.get("lines", [])]).banner.get(
        "tickguest") for r in runs if r.get("lines")), None) or "unknown"
    return {
        "tickguest": f"{version}, commit {first_line(['git', 'rev-parse', '--short=12', 'HEAD'])}",
        "emulator": first_line([emulator or qemu_binary(), "--version"]),
        "host": f"{platform.node()}, Linux {platform.release()}, {os.cpu_count()} CPUs",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _table_rows(texts: list) -> dict:
    """The accounting table: {task: {column: number}} from its header's column names."""
    rows, columns = {}, None
    for text in texts:
        if TABLE_HEADER_RE.match(text):
            columns = text[1:].split()
            continue
        if columns is None:
            continue
        if not text.startswith("# "):
            columns = None          # the table ends at the first line that is not a comment
            continue
        cells = text[1:].split()
        if len(cells) != len(columns):
            continue
        try:
            rows[cells[0]] = {c: float(v) for c, v in zip(columns[1:], cells[1:])}
        except ValueError:
            continue
    return rows


def read_run(record: dict) -> RunView:
    """Read a run record.  Lines that are missing just leave their part of the view empty."""
    for key in ("name", "started", "lines"):
        if key not in record:
            raise ValueError(f"run record without {key!r} (has {', '.join(record) or 'nothing'})")
    started = float(record["started"])
    lines = [(float(t) - started, str(text)) for t, text in record["lines"]]
    texts = [text for _, text in lines]
    method = record.get("method", "none")
    view = RunView(
        name=str(record["name"]), method=method, cmdline=record.get("cmdline", ""),
        qemu_args=list(record.get("qemu_args", [])),
        pauses=[(float(s) - started, float(e) - started) for s, e in record.get("pauses", [])],
        tap=parse_tap(texts), host_status=record.get("status"),
        last_x=lines[-1][0] if lines else 0.0, time_base=record.get("clock", "host"), host_check=record.get("host_check"),
        load=record.get("load"))

    for x, text in lines:
        s = report_lines.stats_line(text)
        if s:
            view.stats.append(Stats(x, s.guest_s, s.behind_us / 1000, s.at_most_us / 1000,
                                    s.running_pct, s.stolen_us / 1000))
            continue
        m = DEVICE_RE.match(text)
        if m:
            view.device.append((x, int(m.group(2)), int(m.group(3))))
            continue
        b = report_lines.backlog_line(text)
        if b:
            view.backlogs.append(Backlog(x, b.guest_s, b.peak_ticks, b.catchup, b.lost,
                                         b.closed_ms))
            continue
        m = RUNNING_RE.match(text)
        if m and view.tasks_start is None:
            view.tasks_start = x
            continue
        m = ACCOUNTING_RE.match(text)
        if m:
            view.accounting_stolen_ms = float(m.group(2))
            continue
        m = NOTE_RE.match(text)
        if m:
            view.notes.append(m.group(1))

    # Each task's figures from its sampling checks (one a method); what the checks do not
    # cover (the sponge, a check skipped without YAML) from the accounting table.
    view.table = _table_rows(texts)
    for t in view.tap.tests:
        y = t.yaml or {}
        if t.description.startswith("task ") and "task" in y:
            view.tasks.setdefault(str(y["task"]), {}).update(
                {k: float(y[k]) for k, _ in CHARGES if k in y})
    for task, row in view.table.items():
        if task not in view.tasks:
            view.tasks[task] = {k: row[k] for k, _ in CHARGES if k in row}
    return view


# --------------------------------------------------------------------------------------------
# Plots

PAUSE_COLOUR = "#9aa0a6"
CATCHUP_COLOUR = "#2e9d4a"
LOST_COLOUR = "#d0342c"


def _figure(height: float = 3.3):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(11, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(1, 1, 1)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    # The same margins on every plot, so that the time axes of one run line up on the page;
    # the right quarter holds the legend.
    fig.subplots_adjust(left=0.07, right=0.76, bottom=0.16, top=0.90)
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _legend(ax) -> None:
    """Beside the plot, never over the data."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)


def _shade_pauses(ax, view: RunView) -> None:
    for i, (s, e) in enumerate(view.pauses):
        ax.axvspan(s, e, color=PAUSE_COLOUR, alpha=0.35, lw=0,
                   label=f"QEMU stopped ({len(view.pauses)} pauses)" if i == 0 else None)
    if view.tasks_start is not None:
        ax.axvline(view.tasks_start, color="0.3", ls=":", lw=1, label="tasks start")


def _time_axis(ax, view: RunView) -> None:
    ax.set_xlim(*view.time_window())
    ax.set_xlabel("host time since QEMU started (s)" if view.time_base == "host" else
                  "guest time since its accounting run started (s)")
    ax.grid(True, alpha=0.3)


def _timeline_png(fig, ax, view: RunView, ylabel: str, title: str) -> bytes:
    """The end of a plot over host time: the time axis, its labels, the legend, the PNG."""
    _time_axis(ax, view)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    _legend(ax)
    return _png(fig)


def plot_behind(view: RunView) -> Optional[bytes]:
    """Behind-by over host time, the pauses shaded; None without TimeTrackerStats lines."""
    if not view.stats:
        return None
    fig, ax = _figure()
    _shade_pauses(ax, view)
    xs = [s.x for s in view.stats]
    # "at most" holds for the whole interval a line closes, so it is drawn across it; "behind
    # by" is one reading at the line's tick, so it is a point: joining points would draw a
    # ramp that no tick saw.
    ax.step(xs, [s.at_most_ms for s in view.stats], where="pre", color="#c2410c", lw=1.6,
            label="at most, over the interval\nending at each stats line")
    ax.plot(xs, [s.behind_ms for s in view.stats], "o", color="#1f5fbf", ms=4,
            label="behind by, at the stats\nline's tick")
    ax.axhline(0, color="0.2", lw=0.6)
    if view.tick_hz:
        ax.axhline(1000 / view.tick_hz, color="0.45", ls="--", lw=0.8,
                   label=f"one tick period ({1000 / view.tick_hz:.2f} ms)")
    return _timeline_png(fig, ax, view, "reference minus tick time (ms)",
                         "Behind-by: how far tick time trailed the reference clock")


def plot_catchup(view: RunView) -> Optional[bytes]:
    """Each backlog as a stacked bar of catch-up and lost ticks where it was open, and the
    device's running totals; None when the run has neither."""
    if not view.backlogs and not view.device:
        return None
    fig, ax = _figure()
    _shade_pauses(ax, view)
    lo, hi = view.time_window()
    min_width = (hi - lo) * 0.006           # a backlog of a few ms would be invisible
    for i, b in enumerate(view.backlogs):
        width = max(b.closed_ms / 1000, min_width)
        left = b.opened_x
        ax.bar(left, b.catchup, width=width, align="edge", color=CATCHUP_COLOUR,
               label="catch-up ticks of a backlog" if i == 0 else None)
        ax.bar(left, b.lost, width=width, bottom=b.catchup, align="edge", color=LOST_COLOUR,
               label="lost ticks of a backlog" if i == 0 else None)
        ax.annotate(f"{b.catchup}+{b.lost} in {b.closed_ms:.1f} ms",
                    (left + width / 2, b.catchup + b.lost), textcoords="offset points",
                    xytext=(0, 3), ha="center", fontsize=7)
    if view.device:
        xs = [d[0] for d in view.device]
        # A total is known only at each stats line; the step puts a rise at the start of
        # the interval it happened in.
        ax.step(xs, [d[1] for d in view.device], "--", where="pre", color=CATCHUP_COLOUR,
                lw=1, label="catch-up ticks so far\n(device stats lines)")
        ax.step(xs, [d[2] for d in view.device], "--", where="pre", color=LOST_COLOUR,
                lw=1, label="lost ticks so far\n(device stats lines)")
    if not view.backlogs:
        ax.text(0.5, 0.5, "no backlog in this run", transform=ax.transAxes, ha="center",
                color="0.4")
    top = max([b.catchup + b.lost for b in view.backlogs] +
              [max(d[1], d[2]) for d in view.device] + [1])
    ax.set_ylim(0, top * 1.2)
    return _timeline_png(fig, ax, view, "ticks",
                         "Catch-up timeline: every backlog, paid back (catch-up) or judged lost")


def plot_charged(view: RunView) -> Optional[bytes]:
    """Grouped bars: each task's CPU time as each method charges it, next to its true time.
    None when no task has figures."""
    tasks = [t for t, f in view.tasks.items() if any(f.values())]
    if not tasks:
        return None
    charges = [(k, label) for k, label in CHARGES if any(k in view.tasks[t] for t in tasks)]
    colours = {"sampled_ms": "#1f5fbf", "steal_aware_ms": "#0e9aa7", "exact_ms": "#c2410c",
               "true_ms": "#2e9d4a", "w_corrected_ms": "#7e57c2"}
    fig, ax = _figure(3.6)
    width = 0.8 / len(charges)
    for i, (k, label) in enumerate(charges):
        # a figure a task does not have (the sponge's w_corrected_ms) is left out, not 0
        have = [n for n, t in enumerate(tasks) if k in view.tasks[t]]
        xs = [n + (i - (len(charges) - 1) / 2) * width for n in have]
        ys = [view.tasks[tasks[n]][k] for n in have]
        bars = ax.bar(xs, ys, width=width * 0.95, color=colours[k], label=label)
        ax.bar_label(bars, fmt="%.0f", fontsize=7, padding=1)
    ax.set_xticks(range(len(tasks)))
    ax.set_xticklabels(tasks)
    ax.set_xlabel("task")
    ax.set_ylabel("CPU time (ms)")
    ax.set_ylim(0, max(v for t in tasks for v in view.tasks[t].values()) * 1.15)
    ax.set_title("Charged vs true CPU time, per task and method")
    _legend(ax)
    ax.grid(True, axis="y", alpha=0.3)
    return _png(fig)


# --------------------------------------------------------------------------------------------
# The page

STYLE = """
body { font-family: "DejaVu Sans", sans-serif; margin: 1.5em 2em; color: #202124; max-width: 1100px; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 2px 8px; text-align: right; }
th { background: #f1f3f4; }
td.l, th.l { text-align: left; }
code { font-size: 12px; word-break: break-all; }
.passed { color: #1e7e34; font-weight: bold; }
.failed { color: #b3261e; font-weight: bold; }
.missing { color: #5f6368; font-style: italic; }
img.plot { display: block; max-width: 100%; margin: 0.4em 0; }
p.note { font-size: 0.85em; color: #3c4043; margin: 0.2em 0; }
"""


def device_rates(view: RunView) -> list:
    """(number, description, error_ppm, tolerance_ppm, outcome) of every check whose YAML has
    a rate error and its bound (ppm_yaml in checks/measure.c): the device suite's rates."""
    out = []
    for t in view.tap.tests:
        y = t.yaml or {}
        try:
            err, tol = float(y["error_ppm"]), float(y["tolerance_ppm"])
        except (KeyError, TypeError, ValueError):
            continue
        outcome = "skipped" if t.directive == "SKIP" else "ok" if t.ok else "not ok"
        out.append((t.number, t.description, err, tol, outcome))
    return out


def plot_device_rates(view: RunView) -> Optional[bytes]:
    """Each rate check's measured error as a point in the band its bound allows, on a scale
    linear within 1 ppm and logarithmic beyond: bounds run from about 100 ppm to whole
    percents (a robbed or coarse window), and a point outside its band is a `not ok`."""
    rates = device_rates(view)
    if not rates:
        return None
    fig, ax = _figure(height=0.8 + 0.24 * len(rates))
    ys = list(range(len(rates)))[::-1]
    for y, (_, _, err, tol, outcome) in zip(ys, rates):
        ax.barh(y, 2 * tol, left=-tol, height=0.6, color="0.85", lw=0,
                label="the bound (tolerance_ppm)" if y == ys[0] else None)
        ax.plot([err], [y], "o", ms=4,
                color={"ok": "tab:green", "not ok": "tab:red"}.get(outcome, "0.5"))
    for outcome, colour in (("ok", "tab:green"), ("not ok", "tab:red"), ("skipped", "0.5")):
        if any(r[4] == outcome for r in rates):
            ax.plot([], [], "o", ms=4, color=colour, label=f"measured error, {outcome}")
    ax.set_yticks(ys)
    ax.set_yticklabels([f"{n} {d[:58]}" for n, d, *_ in rates], fontsize=7)
    ax.set_xscale("symlog", linthresh=1.0)
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_xlabel("rate error (ppm, + fast)")
    ax.set_title("device rates against their bounds")
    ax.grid(True, axis="x", alpha=0.3)
    _legend(ax)
    buf = io.BytesIO()
    fig.subplots_adjust(left=0.36, right=0.80, bottom=0.5 / fig.get_figheight() + 0.05,
                        top=1 - 0.35 / fig.get_figheight())
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _ms(x: Optional[float], digits: int = 1) -> str:
    return MISSING if x is None else f"{x:.{digits}f} ms"


def _verdict_html(view: RunView) -> str:
    return f'<span class="{"passed" if view.passed else "failed"}">{_e(view.verdict)}</span>'


def _host_check_html(view: RunView) -> str:
    """The host's own test of the run against what it knows it did, beside the guest's word:
    a run can pass by the guest and fail by the ground truth."""
    hc = view.host_check
    if not hc:
        return '<span class="note">not checked by the host</span>'
    outcome = hc.get("outcome", "?")
    cls = {"passed": "passed", "failed": "failed"}.get(outcome, "note")
    return f'<span class="{cls}" title="{_e(hc.get("test", ""))}">{_e(outcome)}</span>'


def _plot(png: Optional[bytes], element_id: str, alt: str, missing_why: str,
          caption: str) -> str:
    """The plot as an embedded PNG with its caption, or one line saying why there is none."""
    if png is None:
        return f'<p class="missing" id="{element_id}">{_e(alt)}: {MISSING} ({_e(missing_why)})</p>'
    data = base64.b64encode(png).decode("ascii")
    return f'<img class="plot" id="{element_id}" alt="{_e(alt)}" ' \
           f'src="data:image/png;base64,{data}">\n<p class="note caption">{_e(caption)}</p>'


def _key_figures(view: RunView) -> list:
    """(what, figure) rows of the table under each run's heading."""
    clock, sponge = view.clock, view.sponge
    n = len(view.pauses)
    pauses = f"{n} ({METHODS.get(view.method, view.method)})"
    if n:
        pauses += ": " + " + ".join(f"{(e - s) * 1000:.0f}" for s, e in view.pauses) + \
                  f" = {view.paused_ms:.1f} ms"
    stolen = view.stolen_seen_ms
    stolen_text = _ms(stolen)
    if stolen is not None and n:
        stolen_text += f" ({stolen / view.paused_ms * 100:.0f}% of the time paused)"
    rows = [("pauses", pauses), ("stolen time the guest saw", stolen_text)]
    if clock:
        rows += [("catch-up ticks", str(clock.get("catchup_ticks", MISSING))),
                 ("ticks judged lost", f"{clock.get('lost', MISSING)}"
                  f" (compensated {clock.get('compensated', MISSING)}, "
                  f"over-corrected {clock.get('overcorrected', MISSING)})"),
                 ("most behind", _ms(clock.get("max_behind_ms"), 3)),
                 ("behind at the end", _ms(clock.get("behind_at_end_ms"), 3))]
    else:
        rows.append(("tick clock check", MISSING))
    if sponge:
        rows.append(("absorbed by the sponge",
                     f"{sponge.get('absorbed', '?')} of {sponge.get('catchup_ticks', '?')} "
                     f"catch-up ticks (escaped {sponge.get('escaped', '?')}; "
                     f"mode {sponge.get('mode', '?')})"))
    else:
        rows.append(("absorbed by the sponge", MISSING))
    if view.backlogs:
        longest = max(view.backlogs, key=lambda b: b.closed_ms)
        rows.append(("backlogs", f"{len(view.backlogs)}; the longest open {longest.closed_ms:.3f}"
                                 f" ms, the deepest {max(b.peak_ticks for b in view.backlogs)}"
                                 " ticks"))
    else:
        rows.append(("backlogs", MISSING))
    return rows


def _summary(views: list) -> str:
    head = ["run", "guest's verdict", "host's check", "pauses", "paused", "stolen seen", "catch-up", "lost",
            "absorbed by sponge", "most behind"]
    out = ["<table id=\"summary\"><tr>" +
           "".join(f'<th class="{"l" if i < 2 else ""}">{_e(h)}</th>' for i, h in enumerate(head))
           + "</tr>"]
    for i, v in enumerate(views):
        clock, sponge = v.clock or {}, v.sponge or {}
        cells = [str(len(v.pauses)), f"{v.paused_ms:.1f} ms", _ms(v.stolen_seen_ms),
                 str(clock.get("catchup_ticks", MISSING)), str(clock.get("lost", MISSING)),
                 f"{sponge['absorbed']} of {sponge.get('catchup_ticks', '?')}"
                 if "absorbed" in sponge else MISSING,
                 _ms(clock.get("max_behind_ms"), 3) if clock else MISSING]
        out.append(f'<tr><td class="l"><a href="#run-{i}">{_e(v.name)}</a></td>'
                   f'<td class="l">{_verdict_html(v)}</td>'
                   f'<td class="l">{_host_check_html(v)}</td>' +
                   "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _run_section(i: int, v: RunView, log: Optional[str] = None) -> str:
    out = [f'<section class="run" id="run-{i}" data-pauses="{len(v.pauses)}">',
           f"<h2>{_e(v.name)}: {_verdict_html(v)}; host's check {_host_check_html(v)}</h2>"]
    if log:
        out.append(f'<p class="note">raw serial log: <a id="run-{i}-log" href="{_e(log)}">'
                   f'{_e(log)}</a></p>')
    out += [
           f"<p class=\"note\">guest command line: <code>{_e(v.cmdline or MISSING)}</code></p>",
           f"<p class=\"note\">QEMU: <code>{_e(' '.join(v.qemu_args) or MISSING)}</code></p>"]
    for key in ("tick source", "tick clock", "irq routing"):
        if key in v.tap.banner:
            out.append(f"<p class=\"note\">{_e(key)}: {_e(v.tap.banner[key])}</p>")
    if v.host_check and v.host_check.get("outcome") == "failed":
        out.append(f"<p class=\"note failed\">the host's check "
                   f"<code>{_e(v.host_check.get('test', ''))}</code> failed: "
                   f"{_e(v.host_check.get('message', ''))}</p>")
    if v.load:
        out.append(f"<p class=\"note\">host load average at the run's end: "
                   f"{_e(' '.join(f'{x:.2f}' for x in v.load))}</p>")
    failed = v.tap.failed()
    if failed:
        out.append("<p class=\"note failed\">not ok: " +
                   "; ".join(_e(t.description) for t in failed) + "</p>")
    for note in v.notes:
        out.append(f"<p class=\"note\">{_e(note)}</p>")
    out.append(f'<table class="figures" id="run-{i}-figures">')
    out += [f'<tr><th class="l">{_e(k)}</th><td class="l">{_e(val)}</td></tr>'
            for k, val in _key_figures(v)]
    out.append("</table>")

    out.append(_plot(
        plot_behind(v), f"run-{i}-behind", "behind-by over time with the pauses shaded",
        "no TimeTrackerStats lines",
        "A pause should show as one spike of about its own length, gone by the next stats "
        "line when the device catches up; a level that stays up is ticks lost for good."))
    out.append(_plot(
        plot_catchup(v), f"run-{i}-catchup", "catch-up tick timeline",
        "no TimeTrackerBacklog or device stats lines",
        "Each bar is one backlog, drawn where it was open (widened to be seen): green ticks "
        "were paid back, red ones the device never delivered."))
    out.append(_plot(
        plot_charged(v), f"run-{i}-charged", "charged vs true CPU time per task and method",
        "no per-task checks and no accounting table",
        "Sampling charges whoever a tick finds; exact counts TSC cycles, stolen time "
        "included; true is exact less what the busy loops saw stolen." +
        (" The sponge's sampled bar is the descheduled time it took off the other tasks."
         if "sponge" in v.tasks else "")))
    if device_rates(v):
        out.append(_plot(
            plot_device_rates(v), f"run-{i}-rates", "device rates against their bounds", "",
            "Grey is the bound each rate check derived (tolerance_ppm), the point its "
            "measured error (error_ppm); a window the host robbed and measured again shows "
            "its last figure."))
    skipped = [t for t, f in v.tasks.items() if not any(f.values())]
    if "sponge" not in v.table and v.tasks:
        out.append(f'<p class="note missing">sponge row: {MISSING}</p>')
    if skipped:
        out.append(f"<p class=\"note\">not drawn, every figure zero: {_e(', '.join(skipped))}</p>")
    out.append("</section>")
    return "\n".join(out)


def render_html(runs: list, title: str = "tickguest: timer delivery report",
                about: Optional[dict] = None, logs: Optional[list] = None) -> str:
    """The page for a list of run records, as a string; about ({what: value}: the tickguest
    version and commit, the emulator's version, the host kernel, the date) heads it; logs, one
    relative link or None a run, link each run to its raw serial log."""
    views = [read_run(r) for r in runs]
    clock = ("Times on the plots are host seconds since QEMU started; grey bands are the "
             "times QEMU was stopped." if any(v.time_base == "host" for v in views) else
             "Times on the plots are the guest's own, seconds since its accounting run "
             "started: the log was captured outside the harness, so no host clock saw it.")
    body = [f"<h1>{_e(title)}</h1>",
            f"<p class=\"note\">{len(views)} run{'s' if len(views) != 1 else ''}. {clock} "
            "docs/report-html.md explains each figure.</p>"]
    if about:
        body.append('<table id="about">' + "".join(
            f'<tr><th class="l">{_e(k)}</th><td class="l">{_e(v)}</td></tr>'
            for k, v in about.items()) + "</table>")
    body.append(_summary(views))
    logs = logs or [None] * len(views)
    body += [_run_section(i, v, log) for i, (v, log) in enumerate(zip(views, logs))]
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{_e(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n" +
            "\n".join(body) + "\n</body>\n</html>\n")


def render(runs: list, path, title: str = "tickguest: timer delivery report",
           about: Optional[dict] = None) -> None:
    """Write the page for a list of run records to path, plots included, and each run's
    serial lines as a text file in a folder beside it (PAGE.logs/), linked from its section."""
    path = os.fspath(path)
    folder = os.path.splitext(path)[0] + ".logs"
    logs = []
    for i, run in enumerate(runs):
        lines = run.get("lines") or []
        if not lines:
            logs.append(None)
            continue
        os.makedirs(folder, exist_ok=True)
        name = f"run-{i}-" + re.sub(r"[^A-Za-z0-9_.-]+", "_", str(run.get("name", "")))[:80] + ".log"
        with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
            f.writelines(f"{text}\n" for _, text in lines)
        logs.append(os.path.basename(folder) + "/" + name)
    page = render_html(runs, title, about, logs)
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
