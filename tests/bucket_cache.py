"""Where tests keep the bucket tables they build, and the key of a build: a build is reused
until the code that computes buckets (holdem_lab/cards, holdem_lab/abstraction) changes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def code_digest() -> str:
    """sha256 of the bucket-computing sources."""
    digest = hashlib.sha256()
    for folder in ("cards", "abstraction"):
        for path in sorted((REPO / "holdem_lab" / folder).glob("*.py")):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_root() -> Path:
    """$HOLDEM_LAB_CACHE, else ~/.cache/holdem_lab."""
    root = os.environ.get("HOLDEM_LAB_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "holdem_lab"
