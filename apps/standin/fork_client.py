"""Starts one stand-in through the fork server (zygote.py) as if it were `python app.py ARGS`.

    python -S fork_client.py SOCKET_PATH [app.py flags...]

Hands this process's stdin/stdout/stderr, working directory and environment to the forked
stand-in, forwards SIGTERM, SIGINT and SIGHUP to it, and exits with its exit code (or dies of its
signal). Killed itself, the zygote kills the stand-in. Standard library only: it starts in
milliseconds.
"""
import json
import os
import signal
import socket
import sys


def main() -> None:
    path, argv = sys.argv[1], sys.argv[2:]
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(path)
    request = json.dumps({"argv": argv, "env": dict(os.environ), "cwd": os.getcwd()}).encode() + b"\n"
    socket.send_fds(conn, [request], [0, 1, 2])
    reader = conn.makefile("r")
    first = reader.readline()
    if not first:
        sys.exit("stand-in fork server closed the connection")
    pid = json.loads(first)["pid"]

    def forward(sig: int, _frame: object) -> None:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, forward)
    line = reader.readline()
    end = json.loads(line) if line else {"exit": 1}
    if "signal" in end:
        signal.signal(end["signal"], signal.SIG_DFL)
        os.kill(os.getpid(), end["signal"])
    sys.exit(end.get("exit", 1))


if __name__ == "__main__":
    main()
