"""The example scripts run as documented and show what they claim."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_chunked_training_example_trains_in_chunks_and_matches_one_piece(tmp_path: Path) -> None:
    script = REPO / "examples" / "chunked_training_example.py"
    args = ["--logdir", str(tmp_path / "run"), "--iters", "3000", "--chunk-iterations", "1000"]
    result = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True,
                            cwd=REPO, check=False, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":")[1].strip()[:11] for line in lines if "process" in line] == [
        "exit code 0", "exit code 0", "exit code 3"]
    assert "Newest checkpoint: iteration 3,000" in result.stdout
    assert "  chunked == unchunked, bit for bit: True" in lines
    again = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True,
                           cwd=REPO, check=False, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "process 1: exit code 3 (Training already complete" in again.stdout
