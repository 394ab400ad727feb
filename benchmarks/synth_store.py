"""A synthetic run store for the site benchmarks: many runs in the exact on-disk format.

The files are written directly with the store's own serializers (``dump_yaml`` for
``experiment.yaml``, ``run.yaml`` and ``params.yaml``; ``HEADER``, ``csv_field`` and
``format_float`` for ``metrics.csv``; ``RunDocument`` and ``MetricSummary`` for
``run.yaml``), not through the tracking API, which would take minutes for 10,000 runs.
Every run is FINISHED, has 20 params (numbers, text, booleans, a list, some nested), 10
metrics logged at each of 100 steps, 3 tags, a git block and a captured package list;
run.yaml's metric summaries agree with metrics.csv. Optionally the first run logs its
first metric at 1,000,000 steps instead (a per-batch loss), the heavy case for a run page.

Everything is derived from a seed, so the same spec gives the same bytes (run ids
included). :func:`cached_store` keeps each generated store under ``benchmarks/.data/``
(gitignored), keyed by the spec.

Run: ``.venv/bin/python benchmarks/synth_store.py [--runs N] [--experiments K]
[--long-steps S] [--out DIR]`` (without ``--out``: build or reuse the cached store and
print its path).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import os
import random
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runfolio.store import layout
from runfolio.store.metrics import HEADER, MetricSummary, csv_field
from runfolio.store.records import ms_to_iso
from runfolio.store.run_document import RunDocument
from runfolio.store.serialize import dump_yaml, format_float

DATA_DIR = Path(__file__).resolve().parent / ".data"
GENERATOR_VERSION = 1
"""Bump when the generated files change, so cached stores are rebuilt."""

BASE_MS = 1_790_000_000_000  # 2026-09-21: runs start a minute apart from here
RUN_SPACING_MS = 60_000
PRIMARY_METRIC = "val_loss"

# (name, shape): "down" falls towards its final value, "up" rises to it, "flat" wobbles,
# "schedule" is a cosine learning-rate schedule.
METRICS = (
    ("loss", "down"),
    ("val_loss", "down"),
    ("accuracy", "up"),
    ("val_accuracy", "up"),
    ("f1", "up"),
    ("precision", "up"),
    ("recall", "up"),
    ("learning_rate", "schedule"),
    ("grad_norm", "down"),
    ("epoch_seconds", "flat"),
)
USERS = ("alice", "bob", "chen", "dana", "eve")
TEAMS = ("vision", "nlp", "tabular")
PACKAGES = "".join(
    f"{name}=={version}\n"
    for name, version in sorted(
        {
            "numpy": "2.1.3",
            "pandas": "2.2.3",
            "PyYAML": "6.0.2",
            "scikit-learn": "1.5.2",
            "scipy": "1.14.1",
            "torch": "2.5.1",
            "torchvision": "0.20.1",
            "tqdm": "4.67.1",
            "matplotlib": "3.9.2",
            "pillow": "11.0.0",
            "runfolio": "0.1.0",
            "joblib": "1.4.2",
            "threadpoolctl": "3.5.0",
            "packaging": "24.2",
            "filelock": "3.16.1",
            "Jinja2": "3.1.4",
            "MarkupSafe": "3.0.2",
            "sympy": "1.13.1",
            "networkx": "3.4.2",
            "fsspec": "2024.10.0",
        }.items(),
        key=lambda item: item[0].casefold(),
    )
)


@dataclass(frozen=True)
class SynthSpec:
    """What to generate. Runs are split evenly over the experiments (the first get the rest).

    ``long_steps`` > 0 makes the first run of the first experiment log its first metric
    (``loss``) at that many steps instead of ``steps``.
    """

    runs: int = 10_000
    experiments: int = 1
    metrics: int = 10
    steps: int = 100
    long_steps: int = 0
    seed: int = 0

    def key(self) -> str:
        """A short name for the cache folder, unique to the spec and generator version."""
        fields = json.dumps([GENERATOR_VERSION, dataclasses.astuple(self)])
        digest = hashlib.sha256(fields.encode()).hexdigest()[:8]
        long = f"-long{self.long_steps}" if self.long_steps else ""
        return f"synth-{self.runs}r-{self.experiments}e{long}-{digest}"

    def runs_in(self, experiment: int) -> int:
        """How many runs experiment number ``experiment`` gets."""
        share, rest = divmod(self.runs, self.experiments)
        return share + (1 if experiment < rest else 0)


@dataclass(frozen=True)
class SynthExperiment:
    """One generated experiment: its name, folder name and run ids in order."""

    name: str
    slug: str
    run_ids: tuple[str, ...]


@dataclass(frozen=True)
class SynthStore:
    """A generated store and what it holds."""

    root: Path
    spec: SynthSpec
    experiments: tuple[SynthExperiment, ...]
    seconds: float

    @property
    def long_run(self) -> tuple[str, str] | None:
        """``(experiment slug, run id)`` of the run with the long metric, if any."""
        if not self.spec.long_steps:
            return None
        first = self.experiments[0]
        return first.slug, first.run_ids[0]


def experiment_name(spec: SynthSpec, number: int) -> str:
    """The display name of experiment ``number``."""
    return "Synthetic sweep" if spec.experiments == 1 else f"Synthetic sweep {number + 1}"


def write_store(root: Path, spec: SynthSpec) -> SynthStore:
    """Write the store described by ``spec`` into ``root`` (which must not exist yet).

    Raises:
        FileExistsError: ``root`` exists.
    """
    start = time.perf_counter()
    root.mkdir(parents=True)
    experiments = []
    for number in range(spec.experiments):
        name = experiment_name(spec, number)
        exp_dir = root / layout.experiment_slug(name)
        exp_dir.mkdir()
        _write_text(exp_dir / layout.EXPERIMENT_FILE, dump_yaml(_experiment_data(name)))
        run_ids = tuple(
            write_run(exp_dir, name, spec, number, i) for i in range(spec.runs_in(number))
        )
        experiments.append(SynthExperiment(name, exp_dir.name, run_ids))
    return SynthStore(root, spec, tuple(experiments), time.perf_counter() - start)


def write_run(exp_dir: Path, experiment: str, spec: SynthSpec, number: int, index: int) -> str:
    """Write run ``index`` of experiment ``number`` into ``exp_dir``; return its id.

    ``index`` may go past the experiment's last run: that is how a benchmark adds a run
    (it starts after all the others).
    """
    rng = random.Random(f"{spec.seed}/{number}/{index}")
    start_ms = BASE_MS + (number * spec.runs + index) * RUN_SPACING_MS + rng.randrange(1000)
    duration_ms = rng.randrange(30_000, 55_000)
    run_id = time.strftime("%Y%m%d-%H%M%S", time.gmtime(start_ms // 1000))
    run_id += f"-{rng.getrandbits(40):010x}"
    run_dir = exp_dir / run_id
    (run_dir / layout.CAPTURED_DIR).mkdir(parents=True)
    _write_text(run_dir / layout.CAPTURED_DIR / layout.PACKAGES_FILE, PACKAGES)

    long_steps = spec.long_steps if number == 0 and index == 0 else 0
    csv_text, summaries = _metrics(rng, spec, start_ms, duration_ms, long_steps)
    _write_text(run_dir / layout.METRICS_FILE, csv_text)
    _write_text(run_dir / layout.PARAMS_FILE, dump_yaml(_params(rng)))
    run = _run_document(rng, run_id, experiment, index, start_ms, duration_ms)
    run = dataclasses.replace(
        run, metrics={key: summary.to_dict() for key, summary in summaries.items()}
    )
    _write_text(run_dir / layout.RUN_FILE, dump_yaml(run.to_yaml_dict()))
    return run_id


def _write_text(path: Path, text: str) -> None:
    """Write a store file as the API does: UTF-8, ``\\n`` line endings."""
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def _experiment_data(name: str) -> dict[str, Any]:
    """What experiment.yaml holds."""
    return {
        "created": ms_to_iso(BASE_MS - 3_600_000),
        "description": (
            f"A synthetic sweep for the benchmarks ({name}).\n\n"
            "Every run logs **10 metrics** at each step; runs are ranked by `val_loss`.\n"
        ),
        "format": 1,
        "name": name,
        "primary_metric": {"direction": "minimize", "name": PRIMARY_METRIC},
    }


def _params(rng: random.Random) -> dict[str, Any]:
    """20 params (leaves): numbers, text, booleans, a list, and three nested groups."""
    width = rng.choice([128, 256, 512, 1024])
    return {
        "batch_size": rng.choice([16, 32, 64, 128, 256]),
        "data": {
            "augment": rng.random() < 0.5,
            "dataset": rng.choice(["cifar10", "cifar100", "svhn"]),
            "fraction": rng.choice([0.25, 0.5, 1.0]),
        },
        "epochs": rng.choice([10, 20, 50, 100]),
        "grad_clip": rng.choice([None, 0.5, 1.0, 5.0]),
        "hidden_sizes": [width, width // 2],
        "label_smoothing": round(rng.uniform(0.0, 0.2), 3),
        "model": {
            "activation": rng.choice(["relu", "gelu", "silu"]),
            "depth": rng.randrange(2, 25),
            "dropout": round(rng.uniform(0.0, 0.5), 3),
            "name": rng.choice(["resnet", "vit", "mlp", "convnext"]),
            "width": width,
        },
        "optimizer": {
            "lr": float(f"{10 ** rng.uniform(-5, -1):.3g}"),
            "name": rng.choice(["adam", "adamw", "sgd", "lion"]),
            "weight_decay": float(f"{10 ** rng.uniform(-6, -2):.2g}"),
        },
        "precision": rng.choice(["fp32", "bf16", "fp16"]),
        "scheduler": rng.choice(["cosine", "linear", "step", "constant"]),
        "seed": rng.randrange(2**31),
        "warmup_steps": rng.choice([0, 100, 500, 1000]),
    }


def _run_document(
    rng: random.Random, run_id: str, experiment: str, index: int, start_ms: int, duration_ms: int
) -> RunDocument:
    """What run.yaml holds, but for the metric summaries."""
    # One commit per 50 runs, as a sweep re-launched after code changes would show.
    commit = hashlib.sha1(f"commit {index // 50}".encode()).hexdigest()
    # Keyword order is the order rng is drawn from (pid, team, user): keep it.
    return RunDocument(
        id=run_id,
        status="FINISHED",
        start_time=ms_to_iso(start_ms),
        end_time=ms_to_iso(start_ms + duration_ms),
        name=f"sweep-{index:05d}",
        experiment=experiment,
        description="" if index % 10 else f"Run {index}: a checkpoint worth a look.\n",
        environment={
            "executable": "python",
            "implementation": "CPython",
            "machine": "x86_64",
            "packages": f"{layout.CAPTURED_DIR}/{layout.PACKAGES_FILE}",
            "platform": "Linux-6.1.0-x86_64-with-glibc2.36",
            "python": "3.11.7",
        },
        git={
            "branch": "main",
            "commit": commit,
            "dirty": False,
            "remote_url": "https://github.com/example/synthetic.git",
        },
        process={"host": "trainer-01", "pid": 1000 + rng.randrange(60_000)},
        source={"argv": ["--trial", str(index)], "entry_point": "train.py"},
        tags={"seed": str(index), "stage": "sweep", "team": rng.choice(TEAMS)},
        user=rng.choice(USERS),
    )


def _metrics(
    rng: random.Random, spec: SynthSpec, start_ms: int, duration_ms: int, long_steps: int
) -> tuple[str, dict[str, MetricSummary]]:
    """The text of metrics.csv and the summary of each metric.

    Rows come step by step, every metric once per step, as ``log_metrics`` once per
    epoch writes them; a long metric is logged alone after the others.
    """
    names = [METRICS[j] if j < len(METRICS) else (f"m{j}", "flat") for j in range(spec.metrics)]
    curves = {name: _curve(rng, shape, spec.steps) for name, shape in names}
    stamps = [start_ms + duration_ms * (step + 1) // spec.steps for step in range(spec.steps)]
    keys = {name: csv_field(name) for name, _ in names}
    long_name, long_shape = names[0]
    if long_steps:
        del curves[long_name]
    parts = [HEADER]
    append = parts.append
    for step, stamp in enumerate(stamps):
        tail = f",{stamp}\n"
        for name, values in curves.items():
            append(f"{keys[name]},{step},{format_float(values[step])}{tail}")
    summaries = {name: _summary(values, stamps) for name, values in curves.items()}
    if long_steps:
        values = _curve(rng, long_shape, long_steps)
        long_stamps = [
            start_ms + duration_ms * (step + 1) // long_steps for step in range(long_steps)
        ]
        key = keys[long_name]
        parts.extend(
            f"{key},{step},{format_float(value)},{stamp}\n"
            for step, (value, stamp) in enumerate(zip(values, long_stamps, strict=True))
        )
        summaries = {long_name: _summary(values, long_stamps), **summaries}
    return "".join(parts), dict(sorted(summaries.items()))


def _curve(rng: random.Random, shape: str, steps: int) -> list[float]:
    """A noisy training curve of ``steps`` values."""
    noise = rng.uniform(0.002, 0.03)
    rate = rng.uniform(3.0, 8.0) / steps
    rand = rng.random
    if shape == "flat":
        level = rng.uniform(20.0, 40.0)
        return [level * (1 + noise * (rand() - 0.5)) for _ in range(steps)]
    if shape == "schedule":
        peak = float(f"{10 ** rng.uniform(-5, -2):.3g}")
        cos, turn = math.cos, math.pi / steps
        return [peak * 0.5 * (1 + cos(turn * step)) for step in range(steps)]
    final = rng.uniform(0.05, 0.6) if shape == "down" else rng.uniform(0.6, 0.98)
    begin = final + rng.uniform(0.5, 2.0) if shape == "down" else rng.uniform(0.05, 0.3)
    span = begin - final
    exp = math.exp
    return [final + span * exp(-rate * step) + noise * (rand() - 0.5) for step in range(steps)]


def _summary(values: list[float], stamps: list[int]) -> MetricSummary:
    """run.yaml's summary of one metric logged once per step (steps 0, 1, ...)."""
    return MetricSummary(
        last=values[-1],
        step=len(values) - 1,
        timestamp=stamps[-1],
        min=min(values),
        max=max(values),
        count=len(values),
    )


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """What a cache folder's manifest says, or None when it is absent or unreadable."""
    try:
        return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def cached_store(spec: SynthSpec, data_dir: Path | None = None) -> SynthStore:
    """The store for ``spec`` under ``data_dir`` (default ``benchmarks/.data``), built once.

    The store is generated next to its final place and renamed into it, so an
    interrupted generation never leaves a half store that looks complete.
    """
    folder = (data_dir or DATA_DIR) / spec.key()
    manifest = read_manifest(folder)
    if manifest is not None and manifest.get("spec") == dataclasses.asdict(spec):
        return SynthStore(
            root=folder / "store",
            spec=spec,
            experiments=tuple(
                SynthExperiment(e["name"], e["slug"], tuple(e["run_ids"]))
                for e in manifest["experiments"]
            ),
            seconds=manifest["seconds"],
        )
    shutil.rmtree(folder, ignore_errors=True)
    partial = folder.with_name(f"{folder.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    made = write_store(partial / "store", spec)
    manifest = {
        "version": GENERATOR_VERSION,
        "spec": dataclasses.asdict(spec),
        "seconds": round(made.seconds, 2),
        "experiments": [dataclasses.asdict(e) for e in made.experiments],
    }
    (partial / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    partial.rename(folder)
    return dataclasses.replace(made, root=folder / "store")


def prune_extra_runs(made: SynthStore) -> int:
    """Delete run folders the store's manifest does not list (left by an interrupted benchmark).

    Returns how many were deleted.
    """
    pruned = 0
    for experiment in made.experiments:
        known = set(experiment.run_ids)
        for entry in os.scandir(made.root / experiment.slug):
            extra = layout.is_run_id(entry.name) and entry.name not in known
            if extra and entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
                pruned += 1
    return pruned


def main() -> int:
    """Generate a store (into ``--out``, or the cache) and print where it is."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = SynthSpec()
    parser.add_argument("--runs", type=int, default=defaults.runs)
    parser.add_argument("--experiments", type=int, default=defaults.experiments)
    parser.add_argument("--steps", type=int, default=defaults.steps, help="steps per metric")
    parser.add_argument("--long-steps", type=int, default=0, help="steps of the long metric")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--out", type=Path, default=None, help="a new folder (default: cache)")
    args = parser.parse_args()
    spec = SynthSpec(
        runs=args.runs,
        experiments=args.experiments,
        steps=args.steps,
        long_steps=args.long_steps,
        seed=args.seed,
    )
    made = write_store(args.out, spec) if args.out else cached_store(spec)
    print(f"{made.root} ({spec.runs:,} runs, generated in {made.seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
