"""QMP, QEMU's machine protocol: the little of it the harness uses (stop, cont, query)."""

from __future__ import annotations

import json
import socket
import threading



class QMPError(Exception):
    """QEMU answered a QMP command with an error, or the connection broke."""


class QMPClient:
    """Just enough QMP for the harness: connect to a UNIX socket, read the greeting, leave
    negotiation mode with qmp_capabilities, then execute one command at a time.

    QMP is one JSON object a line.  QEMU may send an event ({"event": ...}) at any time, e.g.
    STOP and RESUME around a stop/cont; they are kept in .events and skipped while waiting for
    a reply.  Every command carries an id, and a reply with another id (left over from a
    command whose wait timed out) is skipped too, so a reply is never taken for the wrong
    command.  Thread-safe: one command at a time."""

    def __init__(self, path: str, timeout: float = 10.0):
        self.events: list = []
        self._buf = b""
        self._next_id = 0
        self._lock = threading.Lock()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.settimeout(timeout)
            self.sock.connect(path)
            self.greeting = self._read()
            if "QMP" not in self.greeting:
                raise QMPError(f"not a QMP greeting: {self.greeting!r}")
            self.execute("qmp_capabilities")
        except BaseException:
            self.sock.close()
            raise

    def _read(self) -> dict:
        while b"\n" not in self._buf:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise QMPError(f"no answer from QEMU in {self.sock.gettimeout():g} s") from None
            except OSError as e:
                raise QMPError(f"QMP connection failed: {e}") from e
            if not chunk:
                raise QMPError("QEMU closed the QMP connection")
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        try:
            return json.loads(line)
        except ValueError as e:
            raise QMPError(f"QEMU sent something that is not JSON: {line!r}") from e

    def execute(self, cmd: str, **args):
        """Run cmd with args; returns the reply's "return" value, raises QMPError on an error
        reply."""
        with self._lock:
            self._next_id += 1
            msg = {"execute": cmd, "id": self._next_id}
            if args:
                msg["arguments"] = args
            try:
                self.sock.sendall(json.dumps(msg).encode() + b"\r\n")
            except OSError as e:
                raise QMPError(f"QMP {cmd}: cannot send: {e}") from e
            while True:
                reply = self._read()
                if "event" in reply:
                    self.events.append(reply)
                elif reply.get("id") != self._next_id:
                    continue
                elif "error" in reply:
                    err = reply["error"]
                    raise QMPError(f"QMP {cmd}: {err.get('class')}: {err.get('desc')}")
                else:
                    return reply.get("return")

    def shutdown(self) -> None:
        """Wake a thread blocked on the socket (close() alone would not) and end the session."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self) -> None:
        self.shutdown()
        self.sock.close()
