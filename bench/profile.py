"""Sample the servers with py-spy during a run, and summarize where their time goes.

``py-spy`` is a development tool, not a dependency: ``.venv/bin/pip install py-spy``.
It samples another process from outside (``--nonblocking``: the target is never
paused), and writes collapsed stacks; :func:`summarize` turns them into the share of
samples spent in each function (inclusive) and at the top of the stack (self).
Profiled runs cost the machine a little CPU: their figures are not the benchmark's.
"""

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

__all__ = ["Profiler", "summarize"]


class Profiler:
    """py-spy processes recording some pids for a fixed time."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.recorders: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, pids: dict[str, int], seconds: float) -> None:
        """Record each ``name -> pid`` for ``seconds`` (in the background)."""
        binary = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        if not Path(binary).exists():
            raise RuntimeError("py-spy is not installed: .venv/bin/pip install py-spy")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for name, pid in pids.items():
            out = self.out_dir / f"{name}.txt"
            cmd = [binary, "record", "--pid", str(pid), "--duration", str(max(1, int(seconds))),
                   "--rate", "200", "--format", "raw", "--nonblocking",
                   "--output", str(out)]  # fmt: skip
            popen = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.recorders.append((popen, out))

    def finish(self, timeout: float = 60) -> dict[str, dict[str, list[tuple[str, float]]]]:
        """Wait for the recorders; return each target's summary."""
        summaries = {}
        for popen, out in self.recorders:
            try:
                popen.wait(timeout)
            except subprocess.TimeoutExpired:
                popen.terminate()
                popen.wait(10)
            if out.exists():
                summaries[out.stem] = summarize(out)
        return summaries


def _frame_name(frame: str) -> str:
    # py-spy writes "function (path/to/file.py:line)"; keep function and file, not line
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    short = "/".join(Path(path).parts[-2:]) if path else "?"
    return f"{name} ({short})"


def summarize(collapsed: Path, top: int = 25) -> dict[str, list[tuple[str, float]]]:
    """Top functions by inclusive and by self share of the samples, in percent."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame_name(f) for f in stack.split(";") if f]
        if not frames:
            continue
        total += count
        for name in set(frames):
            inclusive[name] += count
        own[frames[-1]] += count
    if not total:
        return {"inclusive": [], "self": []}

    def share(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, round(100 * n / total, 1)) for name, n in counter.most_common(top)]

    return {"inclusive": share(inclusive), "self": share(own), "samples": [("total", total)]}


if __name__ == "__main__":
    import json

    for path in sys.argv[1:]:
        print(json.dumps({path: summarize(Path(path))}, indent=1))
