"""Hot reload: watch config.yaml with watchdog and apply a valid change within about a
second, without a restart. An invalid change is refused with the loader's message (file,
line, key); the last good configuration keeps running.

Parts of the ingest register callbacks: alerts replace their rules, the metrics group its
definitions. Sections that cannot change under a running process (database, read_model,
groups, ingest) are logged as needing a restart.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from domain.clock import Clock, utc_now
from ingest.alerts.config_status import record_applied, record_refused
from ingest.config_loader import ConfigError, parse_settings
from ingest.settings import Settings

log = logging.getLogger(__name__)
RESTART_SECTIONS = ("database", "read_model", "ingest", "groups", "business_timezone")
DEBOUNCE_S = 0.2  # editors write a file in several steps: apply once they are done


class _Changed(FileSystemEventHandler):
    def __init__(self, path: Path, changed: threading.Event) -> None:
        self.path = path
        self.changed = changed

    def on_any_event(self, event: FileSystemEvent) -> None:
        touched = {event.src_path, getattr(event, "dest_path", "")}
        if any(p and Path(str(p)).resolve() == self.path for p in touched):
            self.changed.set()


class ConfigWatcher:
    def __init__(
        self,
        path: Path,
        settings: Settings,
        *,
        engine: Engine | None = None,
        on_valid: list[Callable[[Settings], None]] | None = None,
        on_invalid: list[Callable[[ConfigError], None]] | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.path = path.resolve()
        self.settings = settings  # the configuration that runs
        self.engine = engine
        self.on_valid = list(on_valid or [])
        self.on_invalid = list(on_invalid or [])
        self.clock = clock
        self.changed = threading.Event()
        self._digest = self._read_digest()
        self._observer: Observer | None = None  # type: ignore[valid-type]
        self._thread: threading.Thread | None = None

    def _read_digest(self) -> str:
        try:
            return hashlib.sha256(self.path.read_text(encoding="utf-8").encode()).hexdigest()
        except (OSError, UnicodeDecodeError):
            return ""

    def record_start(self) -> None:
        """Note the configuration the ingest starts with (best effort: the database may be
        down, and the groups wait for it)."""
        if self.engine is None:
            return
        try:
            record_applied(self.engine, self.path, self._digest, self.clock())
        except Exception as exc:
            log.warning("config %s: start not recorded: %s", self.path, exc)

    def check(self) -> bool | None:
        """Load the file if it changed: True applied, False refused, None unchanged."""
        unreadable = None
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:  # between an editor's delete and its write, or removed
            log.warning("config %s is gone; the running configuration stays", self.path)
            return None
        except (OSError, UnicodeDecodeError) as exc:
            text, unreadable = "", f"{self.path}: cannot read: {exc}"
        digest = hashlib.sha256((unreadable or text).encode()).hexdigest()
        if digest == self._digest:
            return None
        self._digest = digest
        try:
            if unreadable is not None:
                raise ConfigError(self.path, [unreadable])
            settings = parse_settings(text, self.path)
            for callback in self.on_valid:
                callback(settings)
        except ConfigError as exc:
            self._refuse(digest, str(exc))
            for refused in self.on_invalid:
                refused(exc)
            return False
        except Exception as exc:  # a part could not take it: say so, keep running
            self._refuse(digest, f"{self.path}: could not apply: {type(exc).__name__}: {exc}")
            return False
        restart = [s for s in RESTART_SECTIONS if getattr(settings, s) != getattr(self.settings, s)]
        if restart:
            log.warning(
                "config %s: %s changed: restart the ingest to apply", self.path, ", ".join(restart)
            )
        self.settings = settings
        log.info("config %s applied", self.path)
        if self.engine is not None:
            record_applied(self.engine, self.path, digest, self.clock())
        return True

    def _refuse(self, digest: str, message: str) -> None:
        log.error("config change refused; the last good configuration keeps running:\n%s", message)
        if self.engine is not None:
            record_refused(self.engine, self.path, digest, message, self.clock())

    # --- threads -------------------------------------------------------------------------

    def start(self, stop: threading.Event) -> None:
        observer = Observer()
        observer.schedule(_Changed(self.path, self.changed), str(self.path.parent))
        observer.daemon = True
        observer.start()
        self._observer = observer
        self._thread = threading.Thread(
            target=self._run, args=(stop,), name="config-watch", daemon=True
        )
        self._thread.start()

    def _run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            if not self.changed.wait(0.5):
                continue
            stop.wait(DEBOUNCE_S)
            self.changed.clear()
            try:
                self.check()
            except Exception as exc:  # e.g. the database is down while recording
                log.warning("config %s: reload failed: %s", self.path, exc)

    def join(self, timeout: float = 5.0) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout)
        if self._thread is not None:
            self._thread.join(timeout)
