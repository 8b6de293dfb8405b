"""Fork server for the stand-in, for test runs that start it dozens of times.

Importing gradio costs about 4 s of CPU; a test run starts some 70 stand-ins. This process
imports gradio and the stand-in's modules once, then forks one real stand-in per request: the
child runs `app.main(argv)` exactly as `python app.py ARGS` would, with the requester's
stdin/stdout/stderr, working directory and environment. Nothing is shared after the fork: each
child builds its own Gradio app and server.

    python apps/standin/zygote.py SOCKET_PATH      # prints "ready" once listening

`fork_client.py SOCKET_PATH ARGS...` is the requester: a tiny process (no gradio import) that
hands over its stdio, forwards SIGTERM/SIGINT/SIGHUP to the child and exits as the child did, so
whoever spawned it sees the stand-in's own exit code or signal. When a requester dies (SIGKILL),
its child is killed at once. The zygote ends, killing its children, when its stdin closes (the
test runner that started it is gone).

Protocol on the unix socket: the requester sends one JSON line {"argv", "env", "cwd"} with its
fds 0, 1, 2 attached (SCM_RIGHTS); the zygote answers {"pid": N}, then {"exit": CODE} or
{"signal": SIGNUM} when the child ends.
"""
from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# The expensive imports, done once. app imports cvstandin (and its filters of gradio's warnings).
import gradio  # noqa: E402,F401
import app  # noqa: E402
from cvstandin import ui_cv3en, ui_official  # noqa: E402,F401


def run_child(request: dict, fds: list[int], listener: socket.socket, conn: socket.socket, wake_r: int, wake_w: int) -> None:
    """In the forked child: become `python app.py ARGV` and never return."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        # As a fresh `python app.py` has them (Python itself ignores SIGPIPE and turns SIGINT
        # into KeyboardInterrupt).
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        listener.close()
        conn.close()
        os.close(wake_r)
        os.close(wake_w)
        for target, fd in enumerate(fds[:3]):
            os.dup2(fd, target)
        for fd in fds:
            if fd > 2:
                os.close(fd)
        os.setsid()
        os.chdir(request.get("cwd") or os.getcwd())
        os.environ.clear()
        os.environ.update(request.get("env") or {})
        argv = [str(a) for a in request.get("argv") or []]
        sys.argv = [app.__file__, *argv]
        app.main(argv)
        code = 0
    except SystemExit as e:
        if e.code is None:
            code = 0
        elif isinstance(e.code, int):
            code = e.code
        else:
            print(e.code, file=sys.stderr)
            code = 1
    except BaseException:  # noqa: BLE001 - the child reports and exits like a crashed script
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def send(conn: socket.socket, message: dict) -> None:
    try:
        conn.sendall((json.dumps(message) + "\n").encode())
    except OSError:
        pass


def main() -> None:
    path = sys.argv[1]
    if os.path.exists(path):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    listener.setblocking(False)

    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)

    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, "accept")
    sel.register(wake_r, selectors.EVENT_READ, "sigchld")
    sel.register(sys.stdin, selectors.EVENT_READ, "stdin")
    children: dict[int, socket.socket] = {}
    by_conn: dict[socket.socket, int] = {}

    def reap() -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = children.pop(pid, None)
            if conn is None:
                continue
            by_conn.pop(conn, None)
            if os.WIFSIGNALED(status):
                send(conn, {"signal": os.WTERMSIG(status)})
            else:
                send(conn, {"exit": os.WEXITSTATUS(status)})
            try:
                sel.unregister(conn)
            except (KeyError, ValueError):
                pass
            conn.close()

    def shutdown() -> None:
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in list(children):
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        try:
            os.unlink(path)
        except OSError:
            pass
        os._exit(0)

    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            what = key.data
            if what == "accept":
                try:
                    conn, _ = listener.accept()
                except BlockingIOError:
                    continue
                conn.setblocking(True)
                try:
                    msg, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
                    buf = msg
                    while not buf.endswith(b"\n"):
                        more = conn.recv(1 << 20)
                        if not more:
                            break
                        buf += more
                    request = json.loads(buf.decode())
                except (OSError, ValueError):
                    conn.close()
                    continue
                pid = os.fork()
                if pid == 0:
                    run_child(request, fds, listener, conn, wake_r, wake_w)
                for fd in fds:
                    os.close(fd)
                children[pid] = conn
                by_conn[conn] = pid
                send(conn, {"pid": pid})
                conn.setblocking(False)
                sel.register(conn, selectors.EVENT_READ, "conn")
            elif what == "sigchld":
                try:
                    while os.read(wake_r, 4096):
                        pass
                except BlockingIOError:
                    pass
                reap()
            elif what == "stdin":
                if not os.read(sys.stdin.fileno(), 4096):
                    shutdown()
            else:
                conn = key.fileobj
                try:
                    data = conn.recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    # The requester is gone (killed): its stand-in goes too.
                    pid = by_conn.get(conn)
                    if pid is not None:
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                    sel.unregister(conn)
        reap()


if __name__ == "__main__":
    main()
