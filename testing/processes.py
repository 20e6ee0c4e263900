"""Stopping the server subprocesses the browser and fault suites start."""

import subprocess


def stop_process(proc: subprocess.Popen | None, timeout: float = 10) -> None:
    """Terminate ``proc`` if it still runs; kill it if it ignores that for ``timeout`` s."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
