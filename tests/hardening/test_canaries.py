"""Canary secrets planted all around a store never reach a byte of the built site.

One world, built once: a real git repository whose training script runs in a real
process with git capture on, with unique canary secrets next to the store, in a
``$HOME``, in the repository's ``.git/config``, in the environment and on the command
line; then a store doctored by hand as a hostile committer (or anyone with the folder)
would: symlinks out of the store, a hardlink, a fifo, git's own files, credential files,
captured files pointed elsewhere, a remote manifest naming ``../``. The store is
committed on branches (symlinks and all) and built twice: as it is on disk, and across
branches with ``--refs`` (read from git objects). Every file of both sites is read whole
and searched for every canary in every encoding a page could give it.
"""

from __future__ import annotations

import base64
import html
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import yaml
from click.testing import CliRunner

from git_helpers import git, init_repo
from runfolio.cli import main
from runfolio.site.build import build_site

TRAIN = """\
import os
import runfolio

runfolio.set_experiment("canaries")
with runfolio.start_run(run_name="trained") as run:
    runfolio.log_params({"lr": 0.1, "layers": [64, 32]})
    for step in range(5):
        runfolio.log_metric("loss", 1.0 / (step + 1), step=step)
    runfolio.log_text("plain notes\\n", "notes.md")
    # Explicitly logged, so kept in the store, but never published by a site.
    runfolio.log_artifact(".env")
    runfolio.log_artifacts("outputs", artifact_path="outputs")
    with runfolio.start_run(run_name="child", nested=True):
        runfolio.log_metric("loss", 0.25)
print(run.path)
"""


@dataclass
class World:
    """The doctored store, its two builds, and every canary planted."""

    root: Path
    repo: Path
    store: Path
    canaries: dict[str, str] = field(default_factory=dict)  # where → secret
    sites: dict[str, Path] = field(default_factory=dict)  # build kind → site folder

    def plant(self, where: str) -> str:
        """A fresh canary secret, remembered under ``where``."""
        secret = f"CANARY{uuid.uuid4().hex[:16]}"
        self.canaries[where] = secret
        return secret


def encodings(secret: str) -> set[bytes]:
    """Every form in which a page could carry ``secret``: raw, escaped, encoded."""
    forms = {
        secret,
        quote(secret, safe=""),
        quote(quote(secret, safe=""), safe=""),
        quote_plus(secret),
        html.escape(secret),
        json.dumps(secret)[1:-1],
        json.dumps(json.dumps(secret))[1:-1],
    }
    found = {form.encode() for form in forms}
    found |= {form.lower().encode() for form in forms}
    found.add(secret.encode("utf-16-le"))
    # In base64 (a data: URL of an inlined SVG), at each of the three byte alignments.
    for pad in range(3):
        encoded = base64.b64encode(b"x" * pad + secret.encode())
        found.add(encoded[4 if pad else 0 : -4])
    return found


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("canaries")
    with pytest.MonkeyPatch.context() as patch:
        _isolate(patch, root)
        made = World(root, root / "repo", root / "repo" / "runs")
        _make_repo(made)
        _plant_around(made, patch)
        run_dir = _train(made)
        _doctor_committable(made, run_dir)
        _commit_branches(made, run_dir)
        _doctor_on_disk(made, run_dir)
        _build(made)
        yield made


def _isolate(patch: pytest.MonkeyPatch, root: Path) -> None:
    """No user git config, a private cache, git capture on, a private $HOME."""
    for name in list(os.environ):
        if name.startswith(("RUNFOLIO_", "GIT_", "AWS_")):
            patch.delenv(name)
    (root / "home").mkdir()
    patch.setenv("HOME", str(root / "home"))
    patch.setenv("GIT_CONFIG_GLOBAL", str(root / "gitconfig-global"))
    patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    patch.setenv("RUNFOLIO_CACHE_DIR", str(root / "cache"))
    patch.setenv("RUNFOLIO_CAPTURE_GIT", "1")


def _make_repo(world: World) -> None:
    """main: train.py, a README, a placeholder key, and a .gitignore."""
    repo = world.repo
    (repo / "config").mkdir(parents=True)
    (repo / "outputs").mkdir()
    (repo / "train.py").write_text(TRAIN, encoding="utf-8")
    (repo / "README.md").write_text("# canaries\n", encoding="utf-8")
    (repo / "config" / "service.key").write_text("placeholder\n", encoding="utf-8")
    (repo / ".gitignore").write_text("/ignored-secret.txt\n/outputs/\n", encoding="utf-8")
    init_repo(repo)


def _plant_around(world: World, patch: pytest.MonkeyPatch) -> None:
    """Canaries outside the store: files, $HOME, .git/config, environment."""
    repo, root = world.repo, world.root
    # Next to the store, in the working tree: credential files (untracked or tracked and
    # changed) and an ignored file.
    for name in (".env", "keys/deploy.pem", ".aws/credentials", "outputs/server.key"):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(f"SECRET={world.plant(name)}\n", encoding="utf-8")
    (repo / "config" / "service.key").write_text(world.plant("tracked key"), encoding="utf-8")
    (repo / "ignored-secret.txt").write_text(world.plant("ignored file"), encoding="utf-8")
    (repo / "outputs" / "plot.txt").write_text("a plot\n", encoding="utf-8")
    (repo / "README.md").write_text("# canaries\nchanged\n", encoding="utf-8")
    # Outside the repository.
    (root / "outside").mkdir()
    (root / "outside" / "secret.txt").write_text(world.plant("outside"), encoding="utf-8")
    (root / "outside" / "hardlinked.txt").write_text(world.plant("hardlink"), encoding="utf-8")
    (root / "outside" / "params.yaml").write_text(
        f"token: {world.plant('outside yaml')}\n", encoding="utf-8"
    )
    (root / "outside" / "metrics.csv").write_text(
        f"key,step,value,timestamp\n{world.plant('outside csv')},0,1.0,1\n", encoding="utf-8"
    )
    home = root / "home"
    for name in (".netrc", ".git-credentials", ".aws/credentials", ".ssh/id_rsa"):
        (home / name).parent.mkdir(parents=True, exist_ok=True)
        (home / name).write_text(world.plant(f"home {name}"), encoding="utf-8")
    # The repository's own config.
    user = world.plant("remote password")
    git(repo, "remote", "add", "origin", f"https://alice:{user}@github.com/org/repo.git")
    query = world.plant("remote query")
    git(repo, "remote", "add", "mirror", f"https://gitlab.com/org/repo.git?access_token={query}")
    git(repo, "config", "http.extraHeader", f"Authorization: Bearer {world.plant('header')}")
    # The environment of both the training process and the build.
    for name in ("AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "HF_TOKEN", "MY_DB_PASSWORD"):
        patch.setenv(name, world.plant(f"env {name}"))


def _train(world: World) -> Path:
    """Run train.py in a real process; return the parent run's folder."""
    args = [
        "--password",
        world.plant("argv password"),
        f"--api-key={world.plant('argv api key')}",
        f"db.password={world.plant('argv hydra')}",
        "--data",
        f"https://bob:{world.plant('argv url')}@data.example.com/d.csv",
    ]
    done = subprocess.run(
        [sys.executable, "train.py", *args],
        cwd=world.repo,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return Path(done.stdout.strip().splitlines()[-1])


def _doctor_committable(world: World, run_dir: Path) -> None:
    """What a hostile commit can hold: symlinks, credential files, doctored run.yaml."""
    artifacts = run_dir / "artifacts"
    outside = world.root / "outside"
    (artifacts / "link-secret.txt").symlink_to(outside / "secret.txt")
    (artifacts / "link-relative.txt").symlink_to(os.path.relpath(outside / "secret.txt", artifacts))
    (artifacts / "link-gitconfig").symlink_to(world.repo / ".git" / "config")
    (artifacts / "link-home").symlink_to(world.root / "home", target_is_directory=True)
    (artifacts / "link-outside-dir").symlink_to(outside, target_is_directory=True)
    (artifacts / "loop").symlink_to("loop")
    (artifacts / "dangling.txt").symlink_to(world.root / "missing")
    for name in ("id_rsa", "server.pem", ".netrc", "credentials.json", ".aws/credentials"):
        (artifacts / name).parent.mkdir(parents=True, exist_ok=True)
        (artifacts / name).write_text(world.plant(f"committed {name}"), encoding="utf-8")
    packages = run_dir / "captured" / "packages.txt"
    packages.unlink()
    packages.symlink_to(outside / "secret.txt")
    record_path = run_dir / "run.yaml"
    record = yaml.safe_load(record_path.read_text(encoding="utf-8"))
    record["git"]["patch"] = os.path.relpath(outside / "secret.txt", run_dir)
    record["environment"]["packages"] = "artifacts/id_rsa"
    record_path.write_text(yaml.safe_dump(record), encoding="utf-8")
    (run_dir / "artifacts.remote.yaml").write_text(
        "format: 1\nartifacts:\n"
        f"- path: ../../../outside/secret.txt\n  sha256: {'a' * 64}\n  size: 5\n"
        f"  uri: s3://b/k/sha256/aa/{'a' * 64}\n",
        encoding="utf-8",
    )


def _commit_branches(world: World, run_dir: Path) -> None:
    """hostile: the doctored store; meta: plus run files that are symlinks out of it."""
    repo = world.repo
    git(repo, "checkout", "--quiet", "-b", "hostile")
    git(repo, "add", "--", "runs")
    git(repo, "commit", "--quiet", "--message", "a hostile store")
    git(repo, "checkout", "--quiet", "-b", "meta")
    for name in ("params.yaml", "metrics.csv"):
        (run_dir / name).unlink()
        (run_dir / name).symlink_to(world.root / "outside" / name)
    git(repo, "add", "--", "runs")
    git(repo, "commit", "--quiet", "--message", "run files linked out of the store")
    git(repo, "checkout", "--quiet", "hostile")
    assert not (run_dir / "params.yaml").is_symlink()


def _doctor_on_disk(world: World, run_dir: Path) -> None:
    """What only a working tree can hold: a hardlink, a fifo, a .git folder."""
    artifacts = run_dir / "artifacts"
    os.link(world.root / "outside" / "hardlinked.txt", artifacts / "hard.txt")
    os.mkfifo(artifacts / "pipe.txt")
    (artifacts / ".git").mkdir()
    (artifacts / ".git" / "config").write_text(world.plant("artifacts .git"), encoding="utf-8")


def _build(world: World) -> None:
    """Build the store as it is on disk, then across branches from git (--refs)."""
    world.sites["plain"] = world.root / "site-plain"
    build_site(world.store, world.sites["plain"])
    world.sites["refs"] = world.root / "site-refs"
    result = CliRunner().invoke(
        main,
        ["build", str(world.store), "-o", str(world.sites["refs"]), "--refs", "meta,main,hostile"],
    )
    assert result.exit_code == 0, result.output
    # meta's run files and hostile's artifacts were symlinks in git: skipped, and said so.
    assert "params.yaml: a symlink or submodule in the store; skipped" in result.output
    assert "link-secret.txt: a symlink or submodule in the store; skipped" in result.output


# ---------------------------------------------------------------------- the checks


def site_files(site: Path) -> Iterator[tuple[str, os.stat_result]]:
    """Every entry of a site (files and folders, the manifest included), never followed."""
    for current, dirs, files in os.walk(site):
        for name in dirs + files:
            path = os.path.join(current, name)
            yield path, os.lstat(path)


@pytest.mark.parametrize("kind", ["plain", "refs"])
def test_no_canary_in_any_byte_of_the_site(world: World, kind: str) -> None:
    site = world.sites[kind]
    forms = {where: encodings(secret) for where, secret in world.canaries.items()}
    scanned = 0
    for path, _info in site_files(site):
        if not os.path.isfile(path) or os.path.islink(path):
            continue
        with open(path, "rb") as handle:
            data = handle.read()
        lowered = data.lower()
        for where, encoded in forms.items():
            for form in encoded:
                assert form not in data and form.lower() not in lowered, (where, path)
        scanned += 1
    assert len(world.canaries) >= 30
    assert scanned >= 25  # the site really holds pages, data and published artifacts


@pytest.mark.parametrize("kind", ["plain", "refs"])
def test_the_site_holds_no_symlink_and_no_hardlink(world: World, kind: str) -> None:
    site = world.sites[kind]
    for path, info in site_files(site):
        assert not os.path.islink(path), path
        if os.path.isfile(path):
            assert info.st_nlink == 1, path  # not linked to any file, inside or outside


@pytest.mark.parametrize("kind", ["plain", "refs"])
def test_the_site_still_shows_the_runs_and_publishes_the_plain_files(
    world: World, kind: str
) -> None:
    """The checks above are only meaningful if the doctored run was built at all."""
    site = world.sites[kind]
    pages = list(site.glob("experiments/canaries/runs/*.html"))
    assert len(pages) == 2
    published = {p.name for p in site.glob("experiments/canaries/runs/*/artifacts/**/*")}
    assert {"notes.md", "plot.txt"} <= published
    parent = next(p for p in pages if "notes.md" in p.read_text(encoding="utf-8"))
    text = parent.read_text(encoding="utf-8")
    listed: tuple[str, ...] = ("id_rsa", "server.pem", "server.key", "credentials.json")
    if kind == "plain":  # a --refs snapshot copies no symlink and no dot-file
        listed += (".env", ".netrc", "link-gitconfig", "loop", "hard.txt", "pipe.txt")
    for name in listed:
        assert f"<code>{name}</code>" in text or f"/{name}</code>" in text, name
    assert "not published" in text


def test_captured_data_holds_no_canary(world: World) -> None:
    """The store itself: only the files the script logged on purpose hold a secret."""
    explicitly_logged = {".env", "outputs/server.key"}
    planted_in_store = {w for w in world.canaries if w.startswith(("committed ", "artifacts "))}
    for current, _dirs, files in os.walk(world.store):
        for name in files:
            path = Path(current, name)
            if path.is_symlink() or not path.is_file() or name == "pipe.txt":
                continue
            data = path.read_bytes()
            for where, secret in world.canaries.items():
                if where in explicitly_logged or where in planted_in_store:
                    continue
                if where == "hardlink" and name == "hard.txt":
                    continue
                assert secret.encode() not in data, (where, path)


LINKED_OUT = {
    "params.yaml": "token: {secret}\n",
    "metrics.csv": "key,step,value,timestamp\n{secret},0,1.0,1\n",
    "run.yaml": "format: 1\nid: {run_id}\nname: {secret}\nstatus: FINISHED\n"
    "start_time: '2026-01-01T00:00:00.000Z'\nexperiment: linked\n",
    "experiment.yaml": "format: 1\nname: {secret}\n",
}


@pytest.mark.parametrize("name", LINKED_OUT)
def test_run_files_linked_out_of_the_store_are_not_read(tmp_path: Path, name: str) -> None:
    """A run's or experiment's own file that is a symlink out of the store is never read."""
    from runfolio import Store

    store = Store(tmp_path / "runs")
    with store.start_run("linked", run_name="linked") as run:
        run.log_param("lr", 0.1)
        run.log_metric("loss", 0.5)
        run.log_metric("loss", 0.25, step=1)
    secret = f"CANARY{uuid.uuid4().hex}"
    outside = tmp_path / "outside" / name
    outside.parent.mkdir()
    outside.write_text(LINKED_OUT[name].format(secret=secret, run_id=run.run_id), "utf-8")
    linked = (run.path.parent if name == "experiment.yaml" else run.path) / name
    linked.unlink()
    linked.symlink_to(outside)
    report = build_site(store.root, tmp_path / "site", config_root=tmp_path)
    for current, _dirs, files in os.walk(tmp_path / "site"):
        for file in files:
            assert secret.encode() not in Path(current, file).read_bytes(), file
    assert any("symlink" in problem for problem in report.problems), report.problems
