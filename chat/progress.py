"""Progress display for long management commands.

On a terminal a bar is redrawn in place; anywhere else (a log file, CI, a pipe) a plain line
is written every ten percent, so logs stay readable. Progress goes to the stream you pass
(commands pass ``self.stderr`` so data written to stdout, e.g. an export, stays clean)::

    with Progress(self.stderr, total=count, label="export") as progress:
        for batch in batches:
            ...
            progress.advance(len(batch))

``total`` may be None when it is unknown; plain lines are then written every ``every`` items.
"""

from django.core.management.base import OutputWrapper

BAR_WIDTH = 30


class Progress:
    def __init__(
        self,
        stream,
        *,
        total: int | None,
        label: str,
        tty: bool | None = None,
        every: int = 1000,
        enabled: bool = True,
    ) -> None:
        self.stream = stream
        self.total = total if total and total > 0 else None
        self.label = label
        self.tty = _is_tty(stream) if tty is None else tty
        self.every = max(1, every)
        self.enabled = enabled
        self.count = 0
        self._last_shown = -1  # the last percent (or item step) drawn, to avoid redrawing
        self._finished = False

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.finish()

    def advance(self, n: int = 1) -> None:
        self.count += n
        if not self.enabled:
            return
        if self.total:
            step = min(100, self.count * 100 // self.total)
            if self.tty:
                if step != self._last_shown:
                    self._write("\r" + self._bar(step))
                    self._last_shown = step
            elif step // 10 != self._last_shown // 10 and step // 10 > 0:
                self._write(self._line(step) + "\n")
                self._last_shown = step
        else:
            step = self.count // self.every
            if step != self._last_shown and step > 0:
                self._last_shown = step
                text = f"{self.label}: {self.count}"
                self._write(("\r" + text) if self.tty else text + "\n")

    def finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        if not self.enabled:
            return
        if self.tty:
            if self._last_shown >= 0:
                self._write("\n")
        elif self.total and self._last_shown < 100 and self.count:
            # The last plain line always says where the work ended.
            self._write(self._line(min(100, self.count * 100 // self.total)) + "\n")

    def _bar(self, percent: int) -> str:
        filled = BAR_WIDTH * percent // 100
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        return f"{self.label} [{bar}] {percent:3d}% {self.count}/{self.total}"

    def _line(self, percent: int) -> str:
        return f"{self.label}: {self.count}/{self.total} ({percent}%)"

    def _write(self, text: str) -> None:
        if isinstance(self.stream, OutputWrapper):
            # Plain text: a command's stderr would otherwise colour every line as an error.
            self.stream.write(text, style_func=_plain, ending="")
        else:
            self.stream.write(text)
        flush = getattr(self.stream, "flush", None)
        if flush:
            flush()


def _is_tty(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def _plain(text: str) -> str:
    return text
