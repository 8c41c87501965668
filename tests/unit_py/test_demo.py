"""The default run's table (tickguest/demo.py) from made-up runs: the guest's own share line,
a negative share included, and a run that printed none shown as such."""

from types import SimpleNamespace

from tickguest import demo
from tickguest import report_lines

SHARE = ("# stolen time charged to the workload: plain sampling 43.93%, steal-aware sampling "
         "-0.41%, exact 98.98% of 3839.015 ms stolen seen")


def result(lines, status=0):
    return SimpleNamespace(lines=[(0.0, t) for t in lines], status=status,
                           status_name={0: "passed", 1: "failed"}[status],
                           summary=lambda: "")


def test_the_table_side_by_side():
    on = demo.DemoRun("sponge on", result([SHARE]), 2082.0, 2752.0, "on.tap",
                      report_lines.shares(result(["# accounting: ...", SHARE])))
    off = demo.DemoRun("sponge off", result([], status=1), 2081.0, 1811.0, "off.tap")
    text = demo.table([off, on])
    rows = {line[:38].strip(): line for line in text.splitlines()}
    assert "2081 ms" in rows["host stopped QEMU for"] and "2082 ms" in rows["host stopped QEMU for"]
    assert rows["stolen time the guest saw"].split()[-2:] == ["3839", "ms"]
    assert rows["plain sampling (ticks)"].endswith("1686 ms  43.9 %")      # 43.93 % of 3839
    assert rows["steal-aware sampling"].endswith("-16 ms  -0.4 %")
    assert rows["exact (TSC)"].split()[2] == "-"                           # the run without it
    assert "sponge off failed (status 1)" in text and "off.tap, on.tap" in text
    assert demo.status_of([off, on]) == 1 and demo.status_of([on]) == 0
