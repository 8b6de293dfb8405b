"""The JSON-lines record every stand-in server writes (`--record FILE`)."""
from __future__ import annotations

import json
import threading
import time
from typing import Any


class Recorder:
    """Appends one JSON object per line and flushes at once, so tests can read it live."""

    def __init__(self, path: str | None) -> None:
        self._file = open(path, "a", encoding="utf-8") if path else None  # noqa: SIM115
        self._lock = threading.Lock()

    def write(self, event: str, **fields: Any) -> None:
        if self._file is None:
            return
        line = json.dumps({"event": event, "t": round(time.time() * 1000), **fields}, ensure_ascii=False,
                          default=repr)
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()
