"""Unit tests of the TAP reader and the consistency checks (tickguest/tap.py, consistency.py) on
synthetic serial text: no QEMU needed.

The conformance suite trusts the parser to tell a broken report from a good one, so the parser
is pinned down here first.
"""

import pytest

import tickguest as tg
from tickguest import check_consistent, clean_line, decode_status, parse_tap

GOOD = """\
TAP version 13
# tickguest 0.1.0
# cmdline: hz=100 duration=10s task=a:spin:2 task=b:spin:1
# cpu: GenuineIntel family 6 model 6 stepping 3
# tsc: 2394.455 MHz from PIT channel 2 (3 windows of 50 ms, spread 35 ppm)
# tick source: pit at 100 Hz (divisor 11932, period 10000.015 us)
ok 1 - TSC calibration is plausible and repeatable
  ---
  tsc_hz: 2394455123
  spread_ppm: 35
  bound_ppm: 120
  ...
ok 2 - pit ticks at the programmed rate, measured by the TSC
  ---
  ...
ok 3 - task a: sampled share inside the 99% binomial interval of its exact share
  ---
  task: a
  ticks: 667
  sampled_share_pct: 66.7000
  exact_share_pct: 66.6821
  interval_lo_pct: 62.9012
  interval_hi_pct: 70.4630
  ...
ok 4 - local APIC timer # SKIP no APIC on this machine
1..4
# exit: passed (status 0)
"""


def test_good_report_parses():
    tap = parse_tap(GOOD)
    assert tap.version == 13
    assert tap.offset == 0
    assert tap.plan == 4
    assert [t.number for t in tap.tests] == [1, 2, 3, 4]
    assert tap.header_comments[0] == "tickguest 0.1.0"
    assert tap.banner == {
        "cmdline": "hz=100 duration=10s task=a:spin:2 task=b:spin:1",
        "cpu": "GenuineIntel family 6 model 6 stepping 3",
        "tsc": "2394.455 MHz from PIT channel 2 (3 windows of 50 ms, spread 35 ppm)",
        "tick source": "pit at 100 Hz (divisor 11932, period 10000.015 us)",
    }
    assert tap.exit_line == ("passed", 0)
    assert tap.bail_out is None and tap.errors == []
    assert tap.passed_all()
    assert check_consistent(tap, 0) == []


def test_yaml_blocks():
    tap = parse_tap(GOOD)
    assert tap.test("TSC calibration").yaml == {"tsc_hz": 2394455123, "spread_ppm": 35,
                                                "bound_ppm": 120}
    assert tap.test("pit ticks").yaml == {}           # an empty block is a block
    a = tap.test("task a:").yaml
    assert a["task"] == "a" and a["ticks"] == 667
    assert a["exact_share_pct"] == pytest.approx(66.6821)
    assert tap.test("local APIC").yaml is None        # no block at all


def test_skip_and_todo_directives():
    tap = parse_tap("TAP version 13\n"
                    "ok 1 - apic # SKIP no APIC on this machine\n"
                    "not ok 2 - hpet #   todo not written yet\n"
                    "ok 3 - plain\n"
                    "ok 4 - colour \\# 3 is fine\n"
                    "ok 5 - bare # skip\n"
                    "1..5\n")
    t = tap.tests
    assert (t[0].description, t[0].directive, t[0].reason) == ("apic", "SKIP", "no APIC on this machine")
    assert (t[1].ok, t[1].directive, t[1].reason) == (False, "TODO", "not written yet")
    assert t[2].directive is None and t[2].reason is None
    assert t[3].directive is None and t[3].description == "colour \\# 3 is fine"
    assert (t[4].directive, t[4].reason) == ("SKIP", None)
    assert tap.failed() == []          # a TODO excuses its 'not ok'
    assert tap.passed_all()


def test_noise_before_header_is_ignored():
    noise = ("SeaBIOS (version 1.16.2-debian-1.16.2-1)\r\n"
             "\x1b[2J\x1b[1;1HGNU GRUB  version 2.06\r\n"
             "ok 99 - this is not ours\r\n"
             "Booting `tickguest'\r\n"
             "\x1b[0m\x1b[30m\x1b[40mTAP version 13\r\n")
    tap = parse_tap(noise + GOOD.split("\n", 1)[1].replace("\n", "\r\n"))
    assert tap.version == 13 and tap.offset == 4
    assert [t.number for t in tap.tests] == [1, 2, 3, 4]
    assert tap.errors == []
    assert check_consistent(tap, 0) == []


def test_no_header_means_no_report():
    tap = parse_tap("SeaBIOS\nok 1 - looks like TAP\n1..1\n")
    assert tap.version is None and tap.tests == [] and tap.offset is None
    assert check_consistent(tap, 0) == ["no 'TAP version 13' line on the serial port"]


def test_trailing_and_leading_plan():
    trailing = parse_tap("TAP version 13\nok 1 - a\nok 2 - b\n1..2\n# exit: passed (status 0)\n")
    leading = parse_tap("TAP version 13\n1..2\nok 1 - a\nok 2 - b\n# exit: passed (status 0)\n")
    for tap in (trailing, leading):
        assert tap.plan == 2 and tap.errors == []
        assert check_consistent(tap, 0) == []


def test_plan_mismatch_and_numbering():
    tap = parse_tap("TAP version 13\nok 1 - a\nok 3 - b\n1..3\n# exit: passed (status 0)\n")
    problems = check_consistent(tap, 0)
    assert any("plan 1..3 but 2 tests" in p for p in problems)
    assert any("test numbers" in p for p in problems)
    assert not tap.passed_all()


# Reports whose order is wrong: each is an error of the parse, named by its message.
@pytest.mark.parametrize("text, error", [
    ("TAP version 13\nok 1 - a\n1..1\nok 2 - b\n", "after a trailing plan"),
    ("TAP version 13\nok 1 - a\nTAP version 13\nok 1 - a\n", "second TAP header"),
], ids=["test after trailing plan", "second header"])
def test_out_of_order_lines_are_errors(text, error):
    assert any(error in e for e in parse_tap(text).errors)


def test_bail_out_and_panic_dump():
    tap = parse_tap("TAP version 13\n"
                    "# tickguest 0.1.0\n"
                    "# cmdline: fault=pf\n"
                    "Bail out! page fault at EIP 0x00101234\n"
                    "# EIP: 0x00101234  CS: 0x0008  EFLAGS: 0x00000046\n"
                    "# CR2: 0x00000000  error code: 0x00000000\n"
                    "# backtrace: 0x00101234 0x00100abc\n"
                    "# exit: panic (status 3)\n")
    assert tap.bail_out == "page fault at EIP 0x00101234"
    assert tap.bail_outs == [tap.bail_out]
    assert tap.banner == {"cmdline": "fault=pf"}      # the dump is not banner
    assert "CR2: 0x00000000  error code: 0x00000000" in tap.comments
    assert tap.exit_line == ("panic", 3)
    assert tap.plan is None
    assert check_consistent(tap, 3) == []            # no plan needed after a bail out
    assert not tap.passed_all()


def test_two_bail_outs_are_a_problem():
    tap = parse_tap("TAP version 13\nBail out! one\nBail out! two\n# exit: panic (status 3)\n")
    assert tap.bail_out == "one"
    assert any("2 'Bail out!' lines" in p for p in check_consistent(tap, 3))


def test_exit_line_forms():
    assert parse_tap("TAP version 13\n# exit: bad configuration (status 2)\n").exit_line == \
        ("bad configuration", 2)
    assert parse_tap("TAP version 13\n#   exit:  skipped   (status 77)  \n").exit_line == \
        ("skipped", 77)
    tap = parse_tap("TAP version 13\n# exit: passed\n")
    assert tap.exit_line is None
    assert any("malformed exit line" in e for e in tap.errors)


# The exit line must match the guest's status, and the status the checks (status 0 iff no
# failures): a report after its header, the status, and the problem it has (None: consistent).
@pytest.mark.parametrize("body, status, problem", [
    ("ok 1 - a\n1..1\n# exit: passed (status 0)\n", 0, None),
    ("ok 1 - a\n1..1\n# exit: passed (status 0)\n", 1, "guest's status is 1"),
    ("ok 1 - a\n1..1\n# exit: fine (status 0)\n", 0, "expected 'passed'"),
    ("ok 1 - a\n1..1\n", 0, "no '# exit"),
    ("ok 1 - a\nnot ok 2 - b\n1..2\n# exit: failed (status 1)\n", 1, None),
    ("ok 1 - a\nnot ok 2 - b\n1..2\n# exit: passed (status 0)\n", 0, "status 0 with 1 'not ok'"),
    ("ok 1 - a\n1..1\n# exit: failed (status 1)\n", 1, "no check is 'not ok'"),
    ("ok 1 - a # SKIP no\n1..1\n# exit: passed (status 0)\n", 0, "status 77"),
    ("ok 1 - a # SKIP no\n1..1\n# exit: skipped (status 77)\n", 77, None),
], ids=["passed", "wrong status", "wrong word", "no exit line", "failing", "liar", "gloomy",
        "all skipped but passed", "skipped"])
def test_exit_line_and_status_agree_with_the_checks(body, status, problem):
    problems = check_consistent(parse_tap("TAP version 13\n" + body), status)
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems


def test_failed_lists_the_not_ok_checks():
    failing = parse_tap("TAP version 13\nok 1 - a\nnot ok 2 - b\n1..2\n# exit: failed (status 1)\n")
    assert [t.number for t in failing.failed()] == [2]


def test_malformed_lines_are_reported_not_fatal():
    tap = parse_tap("TAP version 13\n"
                    "ok 1 - a\n"
                    "okay 2 - not a test line\n"
                    "garbage from the guest\n"
                    "  ---\n"                         # a block after no test line
                    "  x: 1\n"
                    "  ...\n"
                    "ok 2 - b\n"
                    "  ---\n"
                    "  : : [unbalanced\n"
                    "  ...\n"
                    "ok 3 - c\n"
                    "  ---\n"
                    "  - a list\n"
                    "  ...\n"
                    "1..3\n"
                    "# exit: passed (status 0)\n")
    assert [t.number for t in tap.tests] == [1, 2, 3]
    assert tap.test("b").yaml is None and tap.test("c").yaml is None
    errs = "\n".join(tap.errors)
    assert "line 3: not TAP: 'okay 2 - not a test line'" in errs
    assert "line 4: not TAP: 'garbage from the guest'" in errs
    assert "YAML block not after a test line" in errs
    assert "bad YAML block" in errs
    assert "not a mapping" in errs
    assert check_consistent(tap, 0)        # errors make the report inconsistent


def test_unclosed_yaml_block():
    tap = parse_tap("TAP version 13\n"
                    "ok 1 - a\n"
                    "  ---\n"
                    "  got: 1\n"
                    "Bail out! panic while reporting\n"
                    "# exit: panic (status 3)\n")
    assert tap.test("a").yaml == {"got": 1}
    assert tap.bail_out == "panic while reporting"
    assert tap.exit_line == ("panic", 3)
    assert any("not closed" in e for e in tap.errors)
    eof = parse_tap("TAP version 13\nok 1 - a\n  ---\n  got: 2\n")
    assert eof.test("a").yaml == {"got": 2} and any("not closed" in e for e in eof.errors)


def test_test_lookup():
    tap = parse_tap(GOOD)
    assert tap.test("task a:").number == 3
    with pytest.raises(KeyError, match="no test starting with 'task z:'"):
        tap.test("task z:")


def test_ansi_and_cr_stripping():
    assert clean_line(b"\x1b[1;31mok 1 - red\x1b[0m\r") == "ok 1 - red"
    assert clean_line("\x1b]0;title\x07\x1b(B\x1b=\x1b[?25lTAP version 13\r") == "TAP version 13"
    assert clean_line(b"caf\xc3\xa9 \xff\x00\x0e") == "caf\u00e9 \ufffd"
    tap = parse_tap("\x1b[2J\x1b[HTAP version 13\r\n\x1b[0mok 1 - \x1b[32mgreen\x1b[0m\r\n1..1\r\n"
                    "# exit: passed (status 0)\r\n")
    assert tap.tests[0].description == "green"
    assert check_consistent(tap, 0) == []


def test_list_input():
    tap = parse_tap(["noise", "TAP version 13", "ok 1 - a", "1..1"])
    assert tap.offset == 1 and tap.plan == 1


@pytest.mark.parametrize("rc, timed_out, verdict, status", [
    (1, False, True, 0),        # passed
    (3, False, True, 1),        # failed
    (5, False, True, 2),        # bad configuration
    (7, False, True, 3),        # panic
    (155, False, True, 77),     # skipped
    (1, False, False, 125),     # QEMU's own error exit, not a guest verdict
    (3, False, False, 1),       # only 1 is ambiguous
    (0, False, True, 125),      # -no-reboot after a triple fault
    (2, False, True, 125),
    (-9, False, True, 125),     # killed by a signal
    (None, False, True, 125),   # never started
    (-9, True, True, 124),
    (1, True, True, 124),       # the timeout wins over whatever the kill produced
])
def test_decode_status(rc, timed_out, verdict, status):
    assert decode_status(rc, timed_out, verdict) == status


def test_status_names_follow_the_docs():
    assert [tg.status_name(s) for s in (0, 1, 2, 3, 77, 124, 125, 42)] == [
        "passed", "failed", "bad configuration", "panic", "skipped", "timeout", "no verdict",
        "unknown"]


def test_timeouts():
    assert tg.timeout_for(5) == tg.BOOT_ALLOWANCE_S + 3 * 5
    assert tg.timeout_for(5, iso=True) == tg.BOOT_ALLOWANCE_S + 3 * 5 + 60
    assert tg.cmdline_duration_s("") == 5
    assert tg.cmdline_duration_s("hz=100 duration=10s") == 10
    assert tg.cmdline_duration_s("duration=250ms") == 0.25
    assert tg.cmdline_duration_s("duration=2m") == 120
    assert tg.cmdline_duration_s("duration=10") == 5     # invalid: the guest will refuse it


def test_guest_arguments():
    g = tg.Guest(kernel="k.elf", cmdline="hz=100", extra_args=["-smp", 2], qemu="q")
    assert g.argv[:3] == ["q", "-machine", "pc,accel=tcg"]
    assert g.argv[-6:] == ["-kernel", "k.elf", "-append", "hz=100", "-smp", "2"]
    assert "isa-debug-exit,iobase=0xf4,iosize=0x04" in g.argv
    assert g.timeout == tg.timeout_for(5)
    iso = tg.Guest(iso="t.iso", qemu="q")
    assert iso.argv[-4:] == ["-cdrom", "t.iso", "-boot", "d"] and iso.timeout == tg.timeout_for(5, iso=True)
    with pytest.raises(ValueError):
        tg.Guest()
    with pytest.raises(ValueError):
        tg.Guest(kernel="k", iso="i")
    with pytest.raises(ValueError):
        tg.Guest(iso="i", cmdline="hz=100")


def test_missing_qemu_is_status_125():
    r = tg.run(kernel="/nonexistent", qemu="/nonexistent/qemu", timeout=5)
    assert r.status == 125 and r.qemu_rc is None
    assert "cannot run /nonexistent/qemu: not found" in r.stderr


def test_limits_come_from_the_guests_banner():
    text = GOOD.replace("# cpu:", "# limits: device_rate_ppm 100, reference_nominal_ppm 1, "
                        "window_tries 4\n# cpu:")
    assert parse_tap(text).limits == {"device_rate_ppm": 100, "reference_nominal_ppm": 1,
                                      "window_tries": 4}
    assert parse_tap(GOOD).limits == {}
