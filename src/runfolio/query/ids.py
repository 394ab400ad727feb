"""Short run ids: the shortest prefix of each id's random part that still names one run."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from pathlib import Path

from runfolio.store.layout import is_run_id
from runfolio.store.reader import iter_experiment_dirs, iter_run_dirs


def short_ids(run_ids: Iterable[str], min_length: int = 7) -> dict[str, str]:
    """Map each run id to the shortest prefix of its random part that names it alone.

    A store resolves a ref that prefixes either an id or an id's random part (see
    :func:`runfolio.store.scan.find_run`), so a short id must not prefix any other id in
    either way. Ids that do not have the usual ``date-time-random`` shape keep their
    full form, as does an id whose random part is shared.

    Args:
        run_ids: every id of the store, so that a short id is unique across it.
        min_length: the shortest prefix shown (git's default abbreviation is 7).
    """
    ids = sorted(set(run_ids))
    randoms = {run_id: run_id.rsplit("-", 1)[-1] for run_id in ids if is_run_id(run_id)}
    need = dict.fromkeys(randoms, min_length)
    ordered = sorted(randoms, key=randoms.__getitem__)
    for left, right in itertools.pairwise(ordered):
        length = _common_prefix_length(randoms[left], randoms[right]) + 1
        need[left] = max(need[left], length)
        need[right] = max(need[right], length)
    # An all-digit prefix of a random part can also prefix another id's date.
    date_prefixes: dict[str, set[str]] = {}
    for run_id in ids:
        for length in range(min_length, 9):
            date_prefixes.setdefault(run_id[:length], set()).add(run_id)
    short: dict[str, str] = {}
    for run_id in ids:
        random_part = randoms.get(run_id)
        if random_part is None:
            short[run_id] = run_id
            continue
        length = need[run_id]
        while length <= len(random_part) and date_prefixes.get(random_part[:length], set()) - {
            run_id
        }:
            length += 1
        short[run_id] = random_part[:length] if length <= len(random_part) else run_id
    return short


def store_short_ids(root: Path) -> dict[str, str]:
    """Return :func:`short_ids` for every run folder of the store at ``root``.

    Every folder that looks like a run counts, readable or not, so a short id stays
    unique even against runs a scan leaves out.

    Raises:
        StoreError: ``root`` does not exist or is not a folder.
    """
    return short_ids(
        run_dir.name
        for exp_dir in iter_experiment_dirs(root)
        for run_dir, _ in iter_run_dirs(exp_dir)
    )


def _common_prefix_length(left: str, right: str) -> int:
    """Count the leading characters two strings share."""
    count = 0
    for a, b in zip(left, right, strict=False):
        if a != b:
            break
        count += 1
    return count
