"""Locating the real data tests may use: `<repo>/../shared/data/ml-latest-small`.

The repository never holds MovieLens; CI clones it with `shared/` beside it. A git worktree
lives elsewhere, so the main checkout's location (git's common dir) is tried too, and
`RSX_SHARED_DATA` overrides both.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Optional

import rsx

#: The folder name of MovieLens latest-small as GroupLens ships it.
LATEST_SMALL = "ml-latest-small"


def shared_data(name: str = LATEST_SMALL) -> Optional[Path]:
    """The folder `shared/data/<name>` beside the repository, or None when it is absent."""
    repo = Path(rsx.__file__).resolve().parents[1]
    candidates = []
    if os.environ.get("RSX_SHARED_DATA"):
        candidates.append(Path(os.environ["RSX_SHARED_DATA"]) / name)
    candidates.append(repo.parent / "shared" / "data" / name)
    try:
        common = subprocess.run(["git", "rev-parse", "--git-common-dir"], cwd=repo, capture_output=True,
                                text=True, timeout=10).stdout.strip()
        if common:
            candidates.append((repo / common).resolve().parent.parent / "shared" / "data" / name)
    except (OSError, subprocess.SubprocessError):
        pass
    for candidate in candidates:
        if (candidate / "ratings.csv").is_file():
            return candidate
    return None


def require_shared_data(name: str = LATEST_SMALL) -> Path:
    """`shared_data(name)`, or skips the calling test with the reason."""
    import pytest

    found = shared_data(name)
    if found is None:
        pytest.skip(f"{name} not found beside the repository (../shared/data/{name}) nor in $RSX_SHARED_DATA")
    return found
