"""The HTML report (docs/report-html.md) of a real paused run: it has its three plots, it counts
the pauses the host made, and Chromium, run headless, draws it as a page with pictures on it.

The run is short: the RTC through the IOAPIC with QEMU's slew policy and the sponge, stopped
twice for 300 ms with SIGSTOP/SIGCONT once the tasks are running (as test_timekeeping.py does).
"""

import os
import shutil
import signal
import subprocess
import time

import pytest

import tickguest as tg
from tickguest import report_html

pytestmark = pytest.mark.conformance

CMDLINE = "suite=accounting timer=rtc irq=ioapic sponge=run duration=4s stats=250ms"
PAUSES = 2
PAUSE_S = 0.3
GAP_S = 0.8             # running time before, between and after the pauses
SCREEN = (1280, 2000)   # Chromium's window, and so the screenshot, in pixels
CHROMIUM_TIMEOUT_S = 120


def need_matplotlib():
    return pytest.importorskip("matplotlib", reason="matplotlib not installed "
                               "(scripts/install-deps installs python3-matplotlib)")


@pytest.fixture(scope="module")
def paused_run(kernel):
    """The record of one run with PAUSES pauses, and its tg.Result."""
    need_matplotlib()           # no page without it: do not spend a run
    timeout = tg.timeout_for(tg.cmdline_duration_s(CMDLINE)) + \
        PAUSES * (PAUSE_S + GAP_S)
    pauses = []
    with tg.Guest(kernel=kernel, cmdline=CMDLINE, extra_args=tg.RTC_SLEW,
                       timeout=timeout) as guest:
        assert guest.wait_for_line(r"^# running \d+ tasks", 60), "the run never started"
        for _ in range(PAUSES):
            time.sleep(GAP_S)
            t0 = time.monotonic()
            assert guest.signal(signal.SIGSTOP)
            time.sleep(PAUSE_S)
            assert guest.signal(signal.SIGCONT)
            pauses.append((t0, time.monotonic()))
        result = guest.wait()
    assert result.tap.exit_line is not None, result.summary()
    return report_html.record_from(result, pauses, "rtc slew, sponge run, 2 pauses"), result


def test_page_has_the_three_plots_and_the_pauses(paused_run, tmp_path):
    record, result = paused_run
    page_path = tmp_path / "report.html"
    report_html.render([record], page_path, title="conformance: one paused run")
    page = page_path.read_text(encoding="utf-8")

    for plot, alt in (("behind", "behind-by over time"), ("catchup", "catch-up tick timeline"),
                      ("charged", "charged vs true CPU time")):
        assert f'<img class="plot" id="run-0-{plot}" alt="{alt}' in page, \
            (plot, result.summary())
    assert f'data-pauses="{PAUSES}"' in page
    assert f"{PAUSES} (SIGSTOP/SIGCONT" in page
    # each pause opens a backlog the RTC pays back, which is what the timeline draws
    view = report_html.read_run(record)
    assert len(view.backlogs) >= PAUSES, result.summary()
    assert "sponge" in view.tasks, result.summary()
    assert "not in this run" not in page, result.summary()


def screenshot(chromium, page, png, profile):
    """Headless Chromium draws the page into png.  It runs in its own session so that a hang
    can be ended whole, renderer and GPU processes included.  Returns its output."""
    argv = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
            f"--user-data-dir={profile}", f"--screenshot={png}",
            f"--window-size={SCREEN[0]},{SCREEN[1]}", page.as_uri()]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=CHROMIUM_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"chromium took over {CHROMIUM_TIMEOUT_S} s: {' '.join(argv)}")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)     # helpers left behind, if any
        except ProcessLookupError:
            pass
    return proc.returncode, out.decode("utf-8", errors="replace")


def test_page_renders_in_headless_chromium(paused_run, tmp_path):
    matplotlib = need_matplotlib()
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium not installed (scripts/install-deps installs it)")
    import matplotlib.image  # noqa: F401  (matplotlib reads PNGs itself)

    record, _ = paused_run
    page = tmp_path / "report.html"
    report_html.render([record], page, title="conformance: one paused run")
    png = tmp_path / "report.png"
    rc, out = screenshot(chromium, page, png, tmp_path / "chromium-profile")
    assert rc == 0 and png.is_file(), f"chromium exited {rc}:\n{out[-3000:]}"

    image = matplotlib.image.imread(str(png))
    assert image.shape[:2] == (SCREEN[1], SCREEN[0]), image.shape
    rgb = image[..., :3]
    # A white page with a few lines of text has a variance near 0.001 and no coloured
    # pixels; the report with its plots drawn has about 0.03 and tens of thousands.  Only the
    # plots are drawn in colour, so the second figure says the embedded PNGs were decoded.
    assert rgb.var() > 0.005, f"the screenshot is (nearly) blank: variance {rgb.var():.5f}"
    coloured = int(((rgb.max(axis=-1) - rgb.min(axis=-1)) > 0.3).sum())
    assert coloured > 10000, f"only {coloured} coloured pixels: were the plots drawn?"
