"""Streams from Python: generator and Kafka sources, event-time windows, sinks that
run in the background as jobs."""
from __future__ import annotations

import datetime as _dt
import itertools
import re
import time
import weakref
from typing import TYPE_CHECKING, Any, Mapping

from . import _sluice

if TYPE_CHECKING:  # pragma: no cover
    from ._frame import Frame

__all__ = ["Job", "sql_string", "sql_interval", "named_args"]

_hidden = itertools.count(1)


def hidden_name(kind: str) -> str:
    """A catalog name for a frame the package registers itself."""
    return f"__sluice_{kind}_{next(_hidden)}"


def sql_string(value: str) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """A quoted SQL identifier (a column name as it is, quotes doubled)."""
    return '"' + str(name).replace('"', '""') + '"'


_WORD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def word(value: str, what: str) -> str:
    """An option value that SQL takes as a bare word (a format, a codec): letters,
    digits and _ only."""
    if not isinstance(value, str) or not _WORD.match(value):
        raise ValueError(f"{what}: a name such as 'parquet', not {value!r}")
    return value


_UNITS = {"us": "microseconds", "ms": "milliseconds", "s": "seconds", "m": "minutes",
          "min": "minutes", "h": "hours", "d": "days"}
_SHORT = re.compile(r"^\s*(\d+)\s*(us|ms|s|min|m|h|d)\s*$")


def sql_interval(value: Any) -> str:
    """An INTERVAL literal from a timedelta, a number of seconds, '10s', '500ms', or an
    interval text such as '1 minute'."""
    if isinstance(value, _dt.timedelta):
        micros = (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds
        return f"INTERVAL '{micros} microseconds'"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"INTERVAL '{int(round(value * 1_000_000))} microseconds'"
    if isinstance(value, str):
        m = _SHORT.match(value)
        text = f"{m.group(1)} {_UNITS[m.group(2)]}" if m else value
        return f"INTERVAL {sql_string(text)}"
    raise TypeError(f"an interval: a timedelta, seconds, or text such as '10s', not {value!r}")


def _columns_text(columns: Any) -> str:
    from ._expr import _type_name

    if isinstance(columns, str):
        return columns
    items = columns.items() if isinstance(columns, Mapping) else columns
    return ", ".join(f"{name} {_type_name(t)}" for name, t in items)


def named_args(**options: Any) -> str:
    """`, name => value` for every option given (None: left out)."""
    parts = []
    for name, value in options.items():
        if value is None:
            continue
        if name == "columns":
            value = _columns_text(value)
        if isinstance(value, bool):
            parts.append(f"{name} => {'true' if value else 'false'}")
        elif isinstance(value, (int, float)):
            parts.append(f"{name} => {value}")
        elif isinstance(value, _dt.timedelta) or name in ("allowed_lateness",):
            parts.append(f"{name} => {sql_interval(value)}")
        else:
            parts.append(f"{name} => {sql_string(value)}")
    return "".join(", " + p for p in parts)


class Job:
    """A query running in the background into a sink (``frame.start(...)``).

    >>> job = bids.tumble("date_time", "10s").group_by("window_start", "auction") \\
    ...           .agg(sl.count().alias("bids")).start("out/counts/", roll_interval="1 minute")
    >>> job.status()["rows_out"]
    >>> job.stop(); job.wait()

    ``stop()`` ends the input where it is and lets everything drain (windows fire, files
    are published, Kafka offsets committed), as Ctrl-C does for the CLI; ``abort()``
    cancels at once. ``wait()`` returns the rows written or raises the job's error;
    Ctrl-C during ``wait()`` stops the job gracefully, waits for it, and raises
    KeyboardInterrupt.
    """

    def __init__(self, job: _sluice.Job):
        self._job = job
        _live_jobs.add(self)

    @property
    def statement(self) -> str:
        """The COPY statement the job runs.

        >>> print(job.statement)
        """
        return self._job.statement()

    @property
    def running(self) -> bool:
        """Whether the job is still running.

        >>> while job.running: time.sleep(1)
        """
        return self._job.status()["running"]

    def status(self) -> dict:
        """``running``, ``rows_read``, ``rows_out``, ``rows_late``, ``rows_rejected``,
        ``watermark`` (a UTC datetime, or None before the first), ``seconds``, and
        ``error`` (the message of a failed job, else None).

        >>> job.status()["rows_out"]
        """
        s = dict(self._job.status())
        wm = s.pop("watermark_us")
        s["watermark"] = None if wm is None else (
            _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc) + _dt.timedelta(microseconds=wm))
        return s

    def stop(self) -> None:
        """Ends the input here; the job drains, publishes and finishes (see wait()).

        >>> job.stop(); job.wait()
        """
        self._job.stop()

    def abort(self) -> None:
        """Cancels the job: what it was writing is not published.

        >>> job.abort()
        """
        self._job.abort()

    def wait(self, timeout: float | None = None) -> int | None:
        """Waits for the end: the rows written (raises SluiceError if the job failed),
        or None when ``timeout`` seconds passed first.

        >>> rows = job.wait(timeout=60)
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                left = 0.1 if deadline is None else min(
                    0.1, max(0.0, deadline - time.monotonic()))
                if self._job.wait_for(left):
                    return self._job.result()
                if deadline is not None and time.monotonic() >= deadline:
                    return None
        except KeyboardInterrupt:
            # Stop gracefully and wait for the job to drain; a second Ctrl-C aborts it.
            self._job.stop()
            while True:
                try:
                    while not self._job.wait_for(0.1):
                        pass
                    break
                except KeyboardInterrupt:
                    self._job.abort()
            raise

    def __repr__(self) -> str:
        s = self._job.status()
        state = "running" if s["running"] else ("failed" if s["error"] else "finished")
        return f"<sluice.Job {state}: {s['rows_out']:,} rows out, {s['seconds']:.1f} s>"


_live_jobs: "weakref.WeakSet[Job]" = weakref.WeakSet()


def abort_jobs() -> None:
    """At exit: running jobs are aborted and awaited (before the Python functions they
    may call are released)."""
    for job in list(_live_jobs):
        if job._job.status()["running"]:
            job._job.abort()
            job._job.wait_for(30.0)
