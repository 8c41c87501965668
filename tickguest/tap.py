"""Reading a serial log as TAP 13 (docs/report.md): the text cleaned of firmware escapes, then
the plan, the test points, their YAML blocks, the banner lines and the exit line."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

import yaml


# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), charset selection (ESC ( B) and the other
# two-byte escapes that GRUB and SeaBIOS send to draw their menus.
_ANSI_RE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[()*+][0-9A-Za-z]"
    r"|\x1b[0-~]"
    r"|\x9b[0-?]*[ -/]*[@-~]"
)
# What is left of control characters after that (\r, SI/SO, NUL, a lone ESC) is never text.
_CTRL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_line(line) -> str:
    """One serial line as text: bytes are decoded as UTF-8 with replacement (the kernel sends
    ASCII; firmware may not), then escapes and control characters, \\r included, are dropped."""
    if isinstance(line, (bytes, bytearray)):
        line = bytes(line).decode("utf-8", errors="replace")
    return _CTRL_RE.sub("", _ANSI_RE.sub("", line))


# TAP


@dataclass
class TapTest:
    number: Optional[int]
    ok: bool
    description: str
    directive: Optional[str] = None      # 'SKIP', 'TODO' or None
    reason: Optional[str] = None         # the text after the directive
    yaml: Optional[dict] = None          # the block after the line; {} for an empty one
    line: str = ""

    @property
    def failed(self) -> bool:
        """TAP's meaning: a directive excuses a `not ok` (prove agrees)."""
        return not self.ok and self.directive is None


@dataclass
class Tap:
    version: Optional[int] = None
    comments: list = field(default_factory=list)         # every comment, '#' and one space gone
    header_comments: list = field(default_factory=list)  # those before the first test/plan/bail
    banner: dict = field(default_factory=dict)           # header comments of the form key: value
    tests: list = field(default_factory=list)
    plan: Optional[int] = None
    bail_outs: list = field(default_factory=list)        # reasons, in order
    exit_line: Optional[tuple] = None                    # (word, status) from `# exit: ...`
    errors: list = field(default_factory=list)           # lines that break the format
    offset: Optional[int] = None                         # index of the header among the input lines

    @property
    def bail_out(self) -> Optional[str]:
        return self.bail_outs[0] if self.bail_outs else None

    @property
    def limits(self) -> dict:
        """The device checks' limits as the guest printed them (checks/limits.h): the host
        holds figures to these rather than to copies of its own.  {name: int}."""
        text = self.banner.get("limits", "")
        return {k: int(v) for k, v in (item.split() for item in text.split(",") if item.strip())}

    def test(self, prefix: str) -> TapTest:
        """The first test whose description starts with prefix.  Raises KeyError naming what
        there is, because a missing check is itself the interesting failure."""
        for t in self.tests:
            if t.description.startswith(prefix):
                return t
        have = "; ".join(t.description for t in self.tests) or "no tests"
        raise KeyError(f"no test starting with {prefix!r} (have: {have})")

    def failed(self) -> list:
        return [t for t in self.tests if t.failed]

    def passed_all(self) -> bool:
        return (self.version is not None and not self.bail_outs and not self.errors
                and self.plan == len(self.tests) and not self.failed())


_HEADER_RE = re.compile(r"TAP version (\d+)\s*$")
_TEST_RE = re.compile(r"^(not\s+)?ok\b(?:\s+(\d+)\b)?(?:\s*-)?\s*(.*)$")
_DIRECTIVE_RE = re.compile(r"^(.*?)\s*(?<!\\)#\s*(skip|todo)\S*(?:\s+(.*?))?\s*$", re.IGNORECASE)
_PLAN_RE = re.compile(r"^1\.\.(\d+)\s*(?:#.*)?$")
_BAIL_RE = re.compile(r"^Bail out!\s*(.*?)\s*$")
_YAML_START_RE = re.compile(r"^(\s+)---\s*$")
_YAML_END_RE = re.compile(r"^\s+\.\.\.\s*$")
_BANNER_RE = re.compile(r"^([A-Za-z][A-Za-z0-9 _.-]*?):(?:\s+(.*?))?\s*$")
_EXIT_RE = re.compile(r"^exit:\s*(.*?)\s*\(status\s+(-?\d+)\)\s*$")


def _load_yaml(block: list, where: str, tap: Tap) -> Optional[dict]:
    try:
        data = yaml.safe_load("\n".join(block))
    except yaml.YAMLError as e:
        tap.errors.append(f"{where}: bad YAML block: {e}")
        return None
    if data is None:
        return {}
    if not isinstance(data, dict):
        tap.errors.append(f"{where}: YAML block is a {type(data).__name__}, not a mapping")
        return None
    return data


def parse_tap(text) -> Tap:
    """Read a serial capture (a string or a list of lines) as TAP version 13.

    Pure and lenient: lines before the header are someone else's (GRUB, SeaBIOS), escapes and
    \\r are dropped, and whatever breaks the format is listed in Tap.errors instead of raising,
    so a broken report still yields everything that can be read from it.
    """
    lines = text.split("\n") if isinstance(text, str) else list(text)
    lines = [clean_line(l) for l in lines]
    tap = Tap()

    start = None
    for i, line in enumerate(lines):
        m = _HEADER_RE.search(line)
        if m:
            start, tap.version, tap.offset = i, int(m.group(1)), i
            break
    if start is None:
        return tap

    in_header = True          # before the first test, plan or bail out: banner territory
    last_test = None          # a YAML block may follow only this, and only at once
    block = None              # (indent, first line number, lines) of an open YAML block
    exit_seen = False
    plan_at = None            # how many tests had been seen when the plan came

    def where(n):
        return f"line {n + 1}"

    for n in range(start + 1, len(lines)):
        line = lines[n]
        if block is not None:
            indent, first, body = block
            if _YAML_END_RE.match(line):
                last_test.yaml = _load_yaml(body, where(first), tap)
                block, last_test = None, None
                continue
            if not line.strip() or line.startswith(indent):
                body.append(line[len(indent):] if line.startswith(indent) else "")
                continue
            tap.errors.append(f"{where(first)}: YAML block not closed with '...'")
            last_test.yaml = _load_yaml(body, where(first), tap)
            block, last_test = None, None
            # and read this line as what it is

        if not line.strip():
            continue
        m = _YAML_START_RE.match(line)
        if m:
            if last_test is None:
                tap.errors.append(f"{where(n)}: YAML block not after a test line")
                last_test = TapTest(None, True, "")   # swallow it, attached to nothing
            block = (m.group(1), n, [])
            continue
        last_test = None

        m = _TEST_RE.match(line)
        if m:
            in_header = False
            desc, directive, reason = m.group(3).strip(), None, None
            d = _DIRECTIVE_RE.match(desc)
            if d:
                desc, directive, reason = d.group(1), d.group(2).upper(), d.group(3) or None
            t = TapTest(int(m.group(2)) if m.group(2) else None, m.group(1) is None,
                        desc, directive, reason, None, line)
            if exit_seen:
                tap.errors.append(f"{where(n)}: test line after the exit line")
            elif tap.bail_outs:
                tap.errors.append(f"{where(n)}: test line after Bail out!")
            elif plan_at is not None and plan_at > 0:
                tap.errors.append(f"{where(n)}: test line after a trailing plan")
            tap.tests.append(t)
            last_test = t
            continue
        m = _PLAN_RE.match(line)
        if m:
            in_header = False
            if tap.plan is not None:
                tap.errors.append(f"{where(n)}: second plan {line!r}")
            else:
                tap.plan, plan_at = int(m.group(1)), len(tap.tests)
            continue
        m = _BAIL_RE.match(line)
        if m:
            in_header = False
            tap.bail_outs.append(m.group(1))
            continue
        if line.startswith("#"):
            c = line[1:].strip()
            tap.comments.append(c)
            if c.startswith("exit:"):
                e = _EXIT_RE.match(c)
                if not e:
                    tap.errors.append(f"{where(n)}: malformed exit line {line!r}")
                else:
                    if exit_seen:
                        tap.errors.append(f"{where(n)}: second exit line")
                    tap.exit_line, exit_seen = (e.group(1), int(e.group(2))), True
                continue
            if in_header:
                tap.header_comments.append(c)
                b = _BANNER_RE.match(c)
                if b:
                    tap.banner[b.group(1)] = b.group(2) or ""
            continue
        if _HEADER_RE.search(line):
            tap.errors.append(f"{where(n)}: second TAP header (did the guest restart?)")
            continue
        tap.errors.append(f"{where(n)}: not TAP: {line!r}")

    if block is not None:
        indent, first, body = block
        tap.errors.append(f"{where(first)}: YAML block not closed with '...'")
        last_test.yaml = _load_yaml(body, where(first), tap)
    return tap
