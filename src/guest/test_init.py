#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Host-side test of alcatraz-init in its --test mode.

The init runs as an ordinary process: a socketpair stands in for the vsock
control connection and a pty for the virtio console.  This script plays the
VMM's side of control_proto.h and checks statuses, stdio and timing events.

usage: test_init.py PATH/TO/alcatraz-init
"""
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time

MAGIC = 0x31434C41
ARG, ENV, WORKDIR, STDIO, END, STDIN_EOF, SIGNAL, WINSIZE = 1, 2, 3, 4, 5, 6, 7, 8
EVENT, STATUS = 16, 17
EXEC, EXEC_STDIN, EXEC_SIGNAL, EXEC_ACK = 9, 10, 11, 12
EXEC_START, EXEC_DATA, EXEC_STDIN_ACK, EXEC_STATUS = 18, 19, 20, 21
FEAT_EXEC = 1
EXEC_WINDOW, EXEC_CHUNK = 65536, 16384
EV_INIT_START, EV_CMD_START = 1, 2
EXITED, SIGNALED, EXEC_FAILED, INIT_ERROR = 1, 2, 3, 4
STDIO_TTY = 1

INIT = os.path.abspath(sys.argv[1])
failures = []


def rec(rtype, payload=b""):
    return struct.pack("<III", MAGIC, rtype, len(payload)) + payload


class Run:
    """One init process with its fake console and control channel."""

    def __init__(self, control=True, cmdline=None):
        self.master, slave = os.openpty()
        self.slave_path = os.ttyname(slave)
        os.close(slave)
        args = [INIT, "--test", "--console", self.slave_path]
        pass_fds = ()
        self.sock = None
        if control:
            self.sock, theirs = socket.socketpair()
            args += ["--control-fd", str(theirs.fileno())]
            pass_fds = (theirs.fileno(),)
        if cmdline is not None:
            args += ["--cmdline", cmdline]
        # Our own pty slave stays open so the console survives the
        # session leader's hangup in tty mode, as hvc0 does in a guest.
        self.keep = os.open(self.slave_path, os.O_RDWR | os.O_NOCTTY)
        self.proc = subprocess.Popen(args, pass_fds=pass_fds, stderr=subprocess.PIPE,
                                     start_new_session=True)
        if control:
            theirs.close()
        self.out = bytearray()
        self.done = threading.Event()
        self.reader = threading.Thread(target=self._read_console, daemon=True)
        self.reader.start()
        self.buf = b""

    def _read_console(self):
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                break
            if not data:
                break
            self.out += data

    def recv(self, timeout=20):
        self.sock.settimeout(timeout)
        while len(self.buf) < 12:
            try:
                chunk = self.sock.recv(4096)
            except ConnectionResetError:
                return None
            if not chunk:
                return None
            self.buf += chunk
        magic, rtype, length = struct.unpack("<III", self.buf[:12])
        assert magic == MAGIC, hex(magic)
        while len(self.buf) < 12 + length:
            chunk = self.sock.recv(4096)
            if not chunk:
                return None
            self.buf += chunk
        payload, self.buf = self.buf[12:12 + length], self.buf[12 + length:]
        return rtype, payload

    def send(self, data):
        self.sock.sendall(data)

    def command(self, argv, env=(), workdir=None, stdio=None):
        data = b"".join(rec(ARG, a.encode()) for a in argv)
        data += b"".join(rec(ENV, e.encode()) for e in env)
        if workdir:
            data += rec(WORKDIR, workdir.encode())
        if stdio is not None:
            data += rec(STDIO, struct.pack("<I", stdio))
        self.send(data + rec(END))

    def finish(self):
        """Collect STATUS, wait for the process; returns (kind, value)."""
        status = None
        while True:
            r = self.recv()
            if r is None:
                break
            rtype, payload = r
            assert rtype in (EVENT, STATUS), rtype
            if rtype == STATUS:
                assert status is None, "two STATUS records"
                status = struct.unpack("<IiQ", payload)[:2]
        rc = self.proc.wait(timeout=20)
        self.err = self.proc.stderr.read().decode(errors="replace")
        assert rc == 0, f"init exited {rc}: {self.err}"
        time.sleep(0.05)  # let the reader drain the pty
        os.close(self.keep)
        self.reader.join(timeout=2)
        os.close(self.master)
        return status


def check(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else f": {detail}"))
    if not cond:
        failures.append(name)


def simple(name, argv, want, out=None, **kw):
    r = Run()
    ev = r.recv()
    check(name + ": INIT_START", ev and ev[0] == EVENT and struct.unpack("<I", ev[1][:4])[0] == EV_INIT_START, ev)
    r.command(argv, **kw)
    r.send(rec(STDIN_EOF, struct.pack("<Q", 0)))
    st = r.finish()
    check(name + ": status", st == want, f"{st} != {want}; stderr: {r.err}")
    if out is not None:
        check(name + ": output", bytes(r.out) == out, f"{bytes(r.out)!r} != {out!r}")


def exec_rec(xid, argv, env=(), workdir=""):
    p = struct.pack("<IIII", xid, 0, len(argv), len(env))
    p += b"".join(a.encode() + b"\0" for a in list(argv) + list(env))
    return rec(EXEC, p + workdir.encode() + b"\0")


class Execs:
    """The host's side of the execs of one Run: what each id sent."""

    def __init__(self, r, ack=True):
        self.r, self.ack = r, ack
        self.started, self.status = {}, {}
        self.out, self.err, self.stdin_acked = {}, {}, {}
        self.errors = []

    def step(self, timeout=20):
        """One record; False on a timeout or the end of the channel."""
        try:
            got = self.r.recv(timeout)
        except socket.timeout:
            return False
        if got is None:
            return False
        rtype, p = got
        if rtype == EXEC_START:
            xid = struct.unpack("<I", p[:4])[0]
            if xid in self.started:
                self.errors.append(f"second EXEC_START for {xid}")
            self.started[xid] = True
        elif rtype == EXEC_DATA:
            xid, stream = struct.unpack("<II", p[:8])
            if xid not in self.started or xid in self.status:
                self.errors.append(f"EXEC_DATA for {xid} outside start..status")
            (self.out if stream == 1 else self.err).setdefault(xid, bytearray()).extend(p[8:])
            if self.ack:
                self.r.send(rec(EXEC_ACK, struct.pack("<III", xid, stream, len(p) - 8)))
        elif rtype == EXEC_STDIN_ACK:
            xid, n = struct.unpack("<II", p)
            self.stdin_acked[xid] = self.stdin_acked.get(xid, 0) + n
        elif rtype == EXEC_STATUS:
            xid, kind, value, zero = struct.unpack("<IIiI", p[:16])
            if xid in self.status:
                self.errors.append(f"second EXEC_STATUS for {xid}")
            self.status[xid] = (kind, value)
        else:
            self.errors.append(f"record type {rtype} while execs run")
        return True

    def wait(self, ids, timeout=20):
        end = time.time() + timeout
        while any(i not in self.status for i in ids) and time.time() < end:
            if not self.step(max(0.1, end - time.time())):
                break


def main_waiting():
    """A Run whose main command waits until it gets SIGTERM."""
    r = Run()
    ev = r.recv()
    r.command(["sleep", "60"])
    r.recv()  # CMD_START
    return r, ev


def end_main(r, name):
    r.send(rec(SIGNAL, struct.pack("<I", 15)))
    st = r.finish()
    check(name + ": main status", st == (SIGNALED, 15), st)


def test_execs():
    r, ev = main_waiting()
    check("exec: INIT_START announces execs",
          ev and struct.unpack("<II", ev[1][:8])[1] & FEAT_EXEC, ev)
    x = Execs(r)
    r.send(exec_rec(1, ["sh", "-c", 'echo "out $FOO $(pwd)"; echo err >&2; exit 3'],
                    env=["FOO=bar"], workdir="/tmp"))
    r.send(rec(EXEC_STDIN, struct.pack("<I", 1)))
    r.send(exec_rec(2, ["/no/such/program"]))
    r.send(exec_rec(3, ["sleep", "30"]))
    x.wait([1, 2])
    check("exec: status", x.status.get(1) == (EXITED, 3), x.status)
    check("exec: stdout alone", bytes(x.out.get(1, b"")) == b"out bar /tmp\n", x.out)
    check("exec: stderr alone", bytes(x.err.get(1, b"")) == b"err\n", x.err)
    check("exec: not found", x.status.get(2) == (EXEC_FAILED, 2) and 2 in x.started, x.status)
    r.send(rec(EXEC_SIGNAL, struct.pack("<II", 3, 9)))
    x.wait([3])
    check("exec: signal", x.status.get(3) == (SIGNALED, 9), x.status)
    # An id is free again after its status; records for it are ignored.
    r.send(rec(EXEC_SIGNAL, struct.pack("<II", 3, 9)))
    r.send(exec_rec(3, ["true"]))
    x.status.pop(3)
    x.started.pop(3)
    x.wait([3])
    check("exec: id reused", x.status.get(3) == (EXITED, 0), x.status)
    # A background process holding the pipes does not hold the status.
    t0 = time.time()
    r.send(exec_rec(8, ["sh", "-c", "sleep 6 & echo hi"]))
    r.send(rec(EXEC_STDIN, struct.pack("<I", 8)))
    x.wait([8])
    took = time.time() - t0
    check("exec: background holder", x.status.get(8) == (EXITED, 0) and
          bytes(x.out.get(8, b"")) == b"hi\n" and 1.5 < took < 5, (x.status.get(8), took))
    check("exec: records in order", not x.errors, x.errors)
    end_main(r, "exec")

    # stdin through the window, stdout back through the other.
    r, _ = main_waiting()
    x = Execs(r)
    data = bytes(random.Random(5).randrange(256) for _ in range(300000))
    r.send(exec_rec(7, ["sh", "-c", "cat; echo end"]))
    sent = 0
    end = time.time() + 30
    while (sent < len(data) or 7 not in x.status) and time.time() < end:
        if sent < len(data) and sent - x.stdin_acked.get(7, 0) + EXEC_CHUNK <= EXEC_WINDOW:
            chunk = data[sent:sent + EXEC_CHUNK]
            r.send(rec(EXEC_STDIN, struct.pack("<I", 7) + chunk))
            sent += len(chunk)
            if sent == len(data):
                r.send(rec(EXEC_STDIN, struct.pack("<I", 7)))
            continue
        x.step(1)
    check("exec stdin: status", x.status.get(7) == (EXITED, 0), x.status)
    check("exec stdin: byte-exact", bytes(x.out.get(7, b"")) == data + b"end\n",
          f"{len(x.out.get(7, b''))} bytes")
    check("exec stdin: all acknowledged", x.stdin_acked.get(7) == len(data), x.stdin_acked)
    end_main(r, "exec stdin")

    # The guest sends no more than a window without acknowledgements.
    r, _ = main_waiting()
    x = Execs(r, ack=False)
    r.send(exec_rec(4, ["head", "-c", "200000", "/dev/zero"]))
    while x.step(1):
        pass
    check("exec window: one window", len(x.out.get(4, b"")) == EXEC_WINDOW and 4 not in x.status,
          len(x.out.get(4, b"")))
    x.ack = True
    r.send(rec(EXEC_ACK, struct.pack("<III", 4, 1, EXEC_WINDOW)))
    x.wait([4])
    check("exec window: the rest", len(x.out.get(4, b"")) == 200000 and
          x.status.get(4) == (EXITED, 0), (len(x.out.get(4, b"")), x.status))
    end_main(r, "exec window")

    # A malformed EXEC is a protocol error: init stops reading the channel.
    r = Run()
    r.recv()
    r.command(["sleep", "1"])
    r.recv()
    bad = struct.pack("<IIII", 5, 0, 0, 0) + b"\0"
    r.send(rec(EXEC, bad + b"\0"))
    r.send(exec_rec(6, ["true"]))
    x = Execs(r)
    st = None
    while True:
        got = r.recv()
        if got is None:
            break
        if got[0] == STATUS:
            st = struct.unpack("<IiQ", got[1])[:2]
        elif got[0] != EVENT:
            x.errors.append(got[0])
    r.proc.wait(timeout=20)
    os.close(r.keep)
    check("exec protocol error: ignored", st == (EXITED, 0) and not x.errors, (st, x.errors))


def main():
    simple("echo", ["echo", "hello", "world"], (EXITED, 0), b"hello world\n")
    simple("exit 7", ["sh", "-c", "exit 7"], (EXITED, 7))
    simple("kill -9", ["sh", "-c", "kill -9 $$"], (SIGNALED, 9))
    simple("not found", ["/no/such/program"], (EXEC_FAILED, 2))
    simple("not found via PATH", ["no-such-program-xyz"], (EXEC_FAILED, 2))
    simple("not executable", ["/etc/passwd"], (EXEC_FAILED, 13))
    simple("env and workdir", ["sh", "-c", 'echo "$FOO:$(pwd):$PATH"'], (EXITED, 0),
           b"bar baz:/tmp:/bin:/usr/bin\n", env=["FOO=bar baz", "PATH=/bin:/usr/bin"], workdir="/tmp")
    simple("default PATH", ["sh", "-c", 'echo "$PATH"'], (EXITED, 0),
           b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n")
    simple("bad workdir", ["true"], (INIT_ERROR, 2), workdir="/no/such/dir")
    simple("orphans", ["sh", "-c", "(sleep 0.2; echo late) & echo early"], (EXITED, 0))
    simple("raw output", ["printf", "a\\nb\\r\\n\\003\\004"], (EXITED, 0), b"a\nb\r\n\x03\x04")

    # Binary stdin through the relay, with an exact end of file.
    r = Run()
    r.recv()
    r.command(["sh", "-c", "cat; echo done"])
    ev = r.recv()
    check("stdin: CMD_START", ev and ev[0] == EVENT and struct.unpack("<I", ev[1][:4])[0] == EV_CMD_START, ev)
    data = bytes(random.Random(4).randrange(256) for _ in range(300000))

    def feed():
        os.write(r.master, data[:1000])
        time.sleep(0.05)
        view = memoryview(data)[1000:]
        while view:
            n = os.write(r.master, view[:4096])
            view = view[n:]
    t = threading.Thread(target=feed)
    t.start()
    r.send(rec(STDIN_EOF, struct.pack("<Q", len(data))))
    st = r.finish()
    t.join()
    check("stdin: status", st == (EXITED, 0), st)
    check("stdin: byte-exact", bytes(r.out) == data + b"done\n",
          f"got {len(r.out)} bytes, want {len(data) + 5}")

    # A command that does not read stdin must not hang the relay.
    r = Run()
    r.recv()
    r.command(["true"])
    r.recv()
    os.write(r.master, b"x" * 1000)
    r.send(rec(STDIN_EOF, struct.pack("<Q", 1000)))
    check("unread stdin", r.finish() == (EXITED, 0))

    # Forwarded signal.
    r = Run()
    r.recv()
    r.command(["sleep", "30"])
    r.recv()
    time.sleep(0.2)
    r.send(rec(SIGNAL, struct.pack("<I", 15)))
    check("signal forwarding", r.finish() == (SIGNALED, 15))

    # Interactive mode: a controlling tty, cooked output.
    r = Run()
    r.recv()
    r.command(["sh", "-c", "test -t 0 && tty && echo x"], stdio=STDIO_TTY)
    st = r.finish()
    check("tty mode: status", st == (EXITED, 0), f"{st} {r.err}")
    check("tty mode: output", bytes(r.out).startswith(b"/dev/pts/") and bytes(r.out).endswith(b"\r\nx\r\n")
          and r.slave_path.encode() not in r.out, bytes(r.out))

    # Interactive input: cooked by the command's own pty (echo, ICRNL).
    r = Run()
    r.recv()
    r.command(["sh", "-c", "read line; echo got:$line; exit 5"], stdio=STDIO_TTY)
    r.recv()
    time.sleep(0.3)
    os.write(r.master, b"hi there\r")
    st = r.finish()
    check("tty input: status", st == (EXITED, 5), f"{st} {r.err}")
    check("tty input: output", b"hi there\r\n" in r.out and b"got:hi there\r\n" in r.out, bytes(r.out))

    # ^C in the input stream interrupts the foreground job.
    r = Run()
    r.recv()
    r.command(["sleep", "30"], stdio=STDIO_TTY)
    r.recv()
    time.sleep(0.3)
    os.write(r.master, b"\x03")
    check("tty ^C", r.finish() == (SIGNALED, 2))

    # Output written just before exit is not lost to the hangup.
    r = Run()
    r.recv()
    r.command(["sh", "-c", "i=0; while [ $i -lt 2000 ]; do echo line $i; i=$((i+1)); done"], stdio=STDIO_TTY)
    r.finish()
    check("tty output complete", r.out.count(b"\r\n") == 2000 and b"line 1999\r\n" in r.out, len(r.out))

    # Protocol errors end the run with INIT_ERROR/EPROTO.
    for name, bad in [("bad magic", struct.pack("<III", 0x12345678, ARG, 1) + b"x"),
                      ("NUL in arg", rec(ARG, b"a\0b") + rec(END)),
                      ("no args", rec(END)),
                      ("env without =", rec(ARG, b"true") + rec(ENV, b"FOO") + rec(END)),
                      ("relative workdir", rec(ARG, b"true") + rec(WORKDIR, b"tmp") + rec(END)),
                      ("oversized arg", struct.pack("<III", MAGIC, ARG, 200000)),
                      ("unknown stdio flag", rec(ARG, b"true") + rec(STDIO, struct.pack("<I", 8)) + rec(END)),
                      ("guest record type", rec(STATUS, bytes(16)))]:
        r = Run()
        r.recv()
        r.send(bad)
        st = r.finish()
        check("protocol: " + name, st == (INIT_ERROR, 71), st)

    # Host hangs up before END.
    r = Run()
    r.recv()
    r.send(rec(ARG, b"true"))
    r.sock.shutdown(socket.SHUT_WR)
    r.proc.wait(timeout=20)
    check("host hangup", r.proc.returncode == 0)
    os.close(r.keep)

    # Fallback: the command from the kernel command line, no control channel.
    r = Run(control=False, cmdline='quiet alcatraz.cmd="/bin/sh,-c,echo fb; exit 3" x=y')
    r.proc.wait(timeout=20)
    time.sleep(0.1)
    os.close(r.keep)
    r.reader.join(timeout=2)
    check("fallback cmd", b"fb\r\n" in r.out and b"alcatraz-init: exited 3" in r.out, bytes(r.out))
    r = Run(control=False, cmdline="alcatraz.cmd64=" +
            __import__("base64").b64encode(b"printf\0%s-%s\0a b\0c").decode())
    r.proc.wait(timeout=20)
    time.sleep(0.1)
    os.close(r.keep)
    r.reader.join(timeout=2)
    check("fallback cmd64", b"a b-c" in r.out and b"exited 0" in r.out, bytes(r.out))

    test_execs()

    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
