"""Progress bars for long work (tuning, calibration, the model zoo), through
tqdm when it is installed (the `progress`, `tune` and `test` extras): shown
only on a terminal, silent in logs, pipes and CI. Without tqdm, nothing is
drawn: the core package needs NumPy only."""
from __future__ import annotations

import sys


class _Silent:
    """What progress() returns when no bar is drawn."""

    def update(self, n=1):
        pass

    def set_postfix_str(self, text, refresh=True):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def progress(total: int, desc: str, enabled: bool = True, unit: str = "it"):
    """A bar of `total` steps on stderr (tqdm), or a silent stand-in when
    disabled, when stderr is not a terminal or when tqdm is missing."""
    stream = sys.stderr
    if not enabled or stream is None or not getattr(stream, "isatty", lambda: False)():
        return _Silent()
    try:
        from tqdm import tqdm
    except ImportError:
        return _Silent()
    return tqdm(total=total, desc=desc, unit=unit, file=stream, leave=False,
                dynamic_ncols=True)
