"""``runfolio serve`` noticing a change in a 5,000-run store: OS notifications against polling.

Until issue 13, ``runfolio serve`` stat-ed every entry of the store once a second
(``os.scandir`` of every folder, a stat per file, a hash of the files changed in the
last moments) and compared the snapshot with the previous one. Now
:class:`runfolio.site.watch.SiteWatcher` is told by the operating system (watchdog over
inotify here). The old scan is kept below, in this script only, to compare in one run:

- **one look**: what one poll of the old loop cost (it ran every second, for ever) next
  to what the new watcher costs to start (adding a watch per folder, once);
- **noticed after**: from appending a row to one run's ``metrics.csv`` until the watcher
  reports it, the old loop (1-s interval) against the new one (no debounce, then with
  serve's 0.3-s debounce);
- **CPU while idle**: processor seconds the watcher burns per second of wall time while
  nothing changes.

The store is the synthetic one of ``synth_store.py`` (20 params, 10 metrics of 100 steps per
run), cached under ``benchmarks/.data/``; the appended row is cut off again afterwards.

Run: ``.venv/bin/python benchmarks/bench_serve_watch.py [--quick] [--reps N]``
"""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path

import _common as common
from synth_store import SynthSpec, cached_store

from runfolio.site.watch import SiteWatcher
from runfolio.store.cache import file_digest, file_stamp, is_racy

POLL_INTERVAL_S = 1.0  # the old loop's
SERVE_DEBOUNCE_S = 0.3  # LiveSite's default
IDLE_S = 3.0
DEADLINE_S = 120.0

Snapshot = dict[str, tuple[int, ...] | None]


# ------------------------------------------------- the old polling scan (for comparison only)


def _old_signature(info: os.stat_result) -> tuple[int, ...]:
    if stat.S_ISDIR(info.st_mode):
        return (info.st_mode, info.st_ino)
    return (info.st_mode, *file_stamp(info))


def old_look(root: str) -> tuple[Snapshot, dict[str, str]]:
    """One look of the old ``SiteWatcher``: stamp every entry below ``root``, hash racy files."""
    since = time.time_ns()
    entries: Snapshot = {root: _old_signature(os.stat(root))}
    digests: dict[str, str] = {}
    stack = [root]
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as listing:
                items = list(listing)
        except OSError:
            entries[current + os.sep] = None
            continue
        for entry in items:
            if entry.name.startswith("."):
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            entries[entry.path] = _old_signature(info)
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
            elif stat.S_ISREG(info.st_mode) and is_racy(info, since):
                digests[entry.path] = file_digest(entry.path)
    return entries, digests


class OldPoller:
    """The old check: a new look compared with the previous one (racy files re-hashed)."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.snapshot, self.digests = old_look(root)

    def check(self) -> bool:
        """Whether anything changed since the last check."""
        current, digests = old_look(self.root)
        changed = current != self.snapshot or any(
            (digests.get(path) or file_digest(path)) != digest
            for path, digest in self.digests.items()
        )
        self.snapshot, self.digests = current, digests
        return changed


# -------------------------------------------------------------------------- measurements


class Appender:
    """Appends one metrics row to a run's metrics.csv and cuts it off again."""

    def __init__(self, metrics: Path) -> None:
        self.metrics = metrics
        self.size = metrics.stat().st_size

    def append(self) -> float:
        """Append a row; return the time it was written (perf_counter)."""
        with open(self.metrics, "a", encoding="utf-8") as handle:
            handle.write("loss,100,0.125,1790000000000\n")
        return time.perf_counter()

    def restore(self) -> None:
        """Put the file back as the store had it."""
        os.truncate(self.metrics, self.size)


def old_one_look(poller: OldPoller) -> float:
    """Seconds one check of the old loop takes (nothing changed)."""
    return common.timed(poller.check)


def new_start(root: Path) -> float:
    """Seconds the new watcher takes to start watching the store."""
    watcher = SiteWatcher()
    try:
        return common.timed(lambda: watcher.watch([root]))
    finally:
        watcher.close()


def old_noticed_after(poller: OldPoller, appender: Appender, offset: float) -> float:
    """Run the old loop; append ``offset`` seconds into it; seconds until a check saw it."""
    written: list[float] = []
    timer = threading.Timer(offset, lambda: written.append(appender.append()))
    poller.check()  # the loop's state as of now
    timer.start()
    deadline = time.monotonic() + DEADLINE_S
    try:
        while time.monotonic() < deadline:
            time.sleep(POLL_INTERVAL_S)
            if poller.check() and written:
                return time.perf_counter() - written[0]
        raise SystemExit("the old poller never noticed the change")
    finally:
        timer.join()
        appender.restore()
        poller.check()


def new_noticed_after(root: Path, appender: Appender, quiet: float) -> float:
    """Append a row; seconds until a new watcher reports it (``quiet``: the debounce)."""
    watcher = SiteWatcher()
    watcher.watch([root])  # a fresh one: nothing pending from the other contenders' writes
    reported: list[float] = []

    def wait() -> None:
        if watcher.wait(quiet=quiet, longest=5.0) is not None:
            reported.append(time.perf_counter())

    waiter = threading.Thread(target=wait)
    waiter.start()
    written = appender.append()
    waiter.join(DEADLINE_S)
    watcher.close()
    appender.restore()
    if not reported:
        raise SystemExit("the new watcher never noticed the change")
    return reported[0] - written


def idle_cpu(start: Callable[[], object], stop: Callable[[], object], seconds: float) -> float:
    """Processor seconds per wall second while a watcher runs and nothing changes."""
    start()
    try:
        cpu, wall = time.process_time(), time.perf_counter()
        time.sleep(seconds)
        return (time.process_time() - cpu) / (time.perf_counter() - wall)
    finally:
        stop()


def old_idle_cpu(poller: OldPoller, seconds: float) -> float:
    """The old loop's processor use while idle."""
    done = threading.Event()

    def loop() -> None:
        while not done.wait(POLL_INTERVAL_S):
            poller.check()

    thread = threading.Thread(target=loop)
    return idle_cpu(thread.start, lambda: (done.set(), thread.join()), seconds)


def new_idle_cpu(root: Path, seconds: float) -> float:
    """The new watcher's processor use while idle."""
    watcher = SiteWatcher()
    return idle_cpu(lambda: watcher.watch([root]), watcher.close, seconds)


def main() -> int:
    """Measure both watchers, interleaved, and print the table."""
    args = common.parse_args(__doc__.splitlines()[0])
    runs = 100 if args.quick else 5000
    reps = args.reps or (2 if args.quick else 5)
    made = cached_store(SynthSpec(runs=runs, experiments=1), args.data_dir)
    root = made.root
    experiment = made.experiments[0]
    middle_run = experiment.run_ids[len(experiment.run_ids) // 2]
    appender = Appender(root / experiment.slug / middle_run / "metrics.csv")
    entries = len(old_look(str(root))[0])
    poller = OldPoller(str(root))
    offsets = iter([(0.137 + 0.618 * i) % 1.0 for i in range(reps)])  # spread over the interval
    try:
        results = common.interleave(
            {
                "old look": lambda: old_one_look(poller),
                "new start": lambda: new_start(root),
                "old noticed": lambda: old_noticed_after(poller, appender, next(offsets)),
                "new noticed": lambda: new_noticed_after(root, appender, 0.0),
                "new noticed debounced": lambda: new_noticed_after(
                    root, appender, SERVE_DEBOUNCE_S
                ),
            },
            reps,
        )
        # The smoke test (--quick) only checks the table is made: two polls' worth.
        idle_s = 2 * POLL_INTERVAL_S if args.quick else IDLE_S
        old_cpu = old_idle_cpu(poller, idle_s)
        new_cpu = new_idle_cpu(root, idle_s)
    finally:
        appender.restore()
    old_look_s = common.median(results["old look"])
    old_noticed = common.median(results["old noticed"])
    new_noticed = common.median(results["new noticed"])
    table = common.markdown_table(
        ["Watcher", "One look / start", "Change noticed after (median)", "Worst", "CPU while idle"],
        [
            [
                "old: poll every 1 s (scan + stat of every entry)",
                f"{old_look_s:.2f} s every poll",
                f"{old_noticed:.2f} s",
                f"{max(results['old noticed']):.2f} s",
                f"{old_cpu:.0%} of a core",
            ],
            [
                "runfolio: watchdog (inotify), no debounce",
                f"{common.median(results['new start']):.2f} s once",
                f"{new_noticed * 1000:.1f} ms ({common.ratio(old_noticed, new_noticed)} sooner)",
                f"{max(results['new noticed']) * 1000:.1f} ms",
                f"{new_cpu:.1%} of a core",
            ],
            [
                f"runfolio serve: watchdog + {SERVE_DEBOUNCE_S} s debounce",
                "(same watcher)",
                f"{common.median(results['new noticed debounced']):.2f} s",
                f"{max(results['new noticed debounced']):.2f} s",
                "(same)",
            ],
        ],
    )
    common.print_report(
        f"runfolio serve: noticing a change in a {runs:,}-run store",
        [
            common.machine_line(),
            f"{entries:,} files and folders in the store; medians of {reps} interleaved "
            "repetitions; the change: one row appended to one run's metrics.csv",
            "old: the polling scan serve used before issue 13, kept in this script; "
            "its change lands at spread moments of the 1-s interval",
            f"CPU while idle: process time over {IDLE_S:.0f} s of watching an unchanged store",
        ],
        table,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
