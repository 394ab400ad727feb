"""What goes into ``captured/git.patch``: the untracked-files policy, secrets by name and by
content, ``.gitignore``, and runfolio's own outputs, in real git repositories and real
training processes."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

from git_helpers import capture_env, git, init_repo
from runfolio.gitrepo import SITE_MANIFEST, capture_git
from runfolio.site.build import build_site
from runfolio.site.writer import MANIFEST

TRAIN = """\
import runfolio

runfolio.set_experiment("policy")
with runfolio.start_run() as run:
    runfolio.log_param("lr", 0.1)
print(run.path)
"""

# Untracked secret files named in issue 12, none on the old name list.
SECRET_NAMES = [
    ".envrc",
    "secrets.toml",
    "secrets.yaml",
    "kaggle.json",
    "prod.tfvars",
    ".databrickscfg",
    ".s3cfg",
    ".vault-token",
    ".my.cnf",
    "service-account.json",
    ".streamlit/secrets.toml",
    "conf/app-secrets.yml",
]


def _repo(root: Path, env: dict[str, str]) -> Path:
    repo = root / "repo"
    repo.mkdir()
    (repo / "train.py").write_text(TRAIN, encoding="utf-8")
    (repo / ".gitignore").write_text("ignored/\n*.log\n", encoding="utf-8")
    return init_repo(repo, env)


def _train(repo: Path, env: dict[str, str]) -> tuple[dict, str, str]:
    """Run train.py in a fresh process; return run.yaml, the patch text and stderr."""
    done = subprocess.run(
        [sys.executable, "train.py"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    run_dir = Path(done.stdout.strip().splitlines()[-1])
    record = yaml.safe_load((run_dir / "run.yaml").read_text(encoding="utf-8"))
    patch_file = run_dir / "captured" / "git.patch"
    patch = patch_file.read_text(encoding="utf-8") if patch_file.exists() else ""
    return record, patch, done.stderr


def test_secret_files_named_in_the_issue_never_reach_the_patch(tmp_path: Path) -> None:
    env = capture_env(tmp_path)
    env["RUNFOLIO_CAPTURE_UNTRACKED"] = "all"  # even when every untracked file is wanted
    repo = _repo(tmp_path, env)
    planted = {}
    for name in SECRET_NAMES:
        planted[name] = f"CANARY{uuid.uuid4().hex}"
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(f"token = {planted[name]}\n", encoding="utf-8")
    (repo / "helper.py").write_text("SEED = 7\n", encoding="utf-8")
    record, patch, _ = _train(repo, env)
    assert record["git"]["credentials_not_captured"] == sorted(SECRET_NAMES)
    assert "b/helper.py" in patch
    for name, secret in planted.items():
        assert secret not in patch and f"b/{name}" not in patch, name


def test_a_token_in_an_ordinary_file_keeps_that_file_out(tmp_path: Path) -> None:
    env = capture_env(tmp_path)
    repo = _repo(tmp_path, env)
    token = "ghp_" + uuid.uuid4().hex + uuid.uuid4().hex[:4]
    key_block = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
    (repo / "config_local.py").write_text(f"GITHUB = '{token}'\n", encoding="utf-8")
    (repo / "deploy.yaml").write_text(f"key: |\n  {key_block}", encoding="utf-8")
    # A tracked file whose uncommitted change adds a token.
    (repo / "train.py").write_text(TRAIN + f"# {token}\n", encoding="utf-8")
    (repo / "model.py").write_text("LAYERS = 3\n", encoding="utf-8")
    record, patch, _ = _train(repo, env)
    assert record["git"]["credentials_not_captured"] == [
        "config_local.py",
        "deploy.yaml",
        "train.py",
    ]
    assert token not in patch and "PRIVATE KEY" not in patch
    assert "b/model.py" in patch


def test_ignored_files_are_never_captured_nor_make_the_tree_dirty(tmp_path: Path) -> None:
    env = capture_env(tmp_path)
    env["RUNFOLIO_CAPTURE_UNTRACKED"] = "all"
    repo = _repo(tmp_path, env)
    (repo / "ignored").mkdir()
    (repo / "ignored" / "dump.py").write_text("X = 1\n", encoding="utf-8")
    (repo / "train.log").write_text("epoch 1\n", encoding="utf-8")
    (repo / ".git" / "info" / "exclude").write_text("scratch.py\n", encoding="utf-8")
    (repo / "scratch.py").write_text("Y = 2\n", encoding="utf-8")
    others = git(repo, "ls-files", "--others", "--exclude-standard")
    assert others == ""  # what git itself calls untracked and not ignored: nothing
    record, patch, _ = _train(repo, env)
    assert record["git"]["dirty"] is False and patch == ""


def test_by_default_only_untracked_code_is_captured_and_the_rest_is_listed(
    tmp_path: Path,
) -> None:
    env = capture_env(tmp_path)
    repo = _repo(tmp_path, env)
    (repo / "helper.py").write_text("SEED = 7\n", encoding="utf-8")
    (repo / "conf").mkdir()
    (repo / "conf" / "sweep.yaml").write_text("lr: 0.1\n", encoding="utf-8")
    (repo / "notes.txt").write_text("db password is in my head\n", encoding="utf-8")
    (repo / "dump.bin").write_bytes(bytes(range(256)))
    record, patch, _ = _train(repo, env)
    assert "b/helper.py" in patch and "b/conf/sweep.yaml" in patch
    assert "notes.txt" not in patch and "dump.bin" not in patch
    assert record["git"]["untracked_not_captured"] == ["dump.bin", "notes.txt"]


@pytest.mark.parametrize(
    ("setting", "variable", "captured"),
    [
        ("none", None, False),
        ("all", None, True),
        ("none", "all", True),  # the environment variable wins over runfolio.yaml
        (None, "none", False),
        ("nonsense", None, False),  # a typo captures nothing (and warns)
    ],
)
def test_the_untracked_policy_is_configurable(
    tmp_path: Path, setting: str | None, variable: str | None, captured: bool
) -> None:
    env = capture_env(tmp_path)
    repo = _repo(tmp_path, env)
    if setting is not None:
        (repo / "runfolio.yaml").write_text(f"capture_untracked: {setting}\n", encoding="utf-8")
        git(repo, "add", "runfolio.yaml", env=env)
        git(repo, "commit", "-qm", "config", env=env)
    if variable is not None:
        env["RUNFOLIO_CAPTURE_UNTRACKED"] = variable
    (repo / "notes.txt").write_text("plain notes\n", encoding="utf-8")
    record, patch, stderr = _train(repo, env)
    assert ("b/notes.txt" in patch) is captured
    assert record["git"]["dirty"] is True
    if setting == "nonsense":
        assert "capture_untracked must be one of all, code, none" in stderr


def test_runfolio_outputs_stay_out_and_leave_the_tree_clean(tmp_path: Path) -> None:
    env = capture_env(tmp_path)
    env["RUNFOLIO_CAPTURE_UNTRACKED"] = "all"
    repo = _repo(tmp_path, env)
    env["RUNFOLIO_CACHE_DIR"] = str(repo / ".runfolio-cache")
    _train(repo, {**env, "RUNFOLIO_CAPTURE_GIT": "0"})  # a store to build
    # A site built by the real builder, in the default folder and in another one.
    for output in ("site", "public/preview"):
        build_site(repo / "runs", repo / output)
        assert (repo / output / SITE_MANIFEST).is_file()
    (repo / ".runfolio-cache" / "runs").mkdir(parents=True)  # what readers cache there
    (repo / ".runfolio-cache" / "runs" / "x.marshal").write_bytes(b"\0" * 64)
    assert (repo / ".runfolio-cache").is_dir()
    # What `runfolio export mlflow` writes with a local tracking URI.
    (repo / "mlruns" / "0").mkdir(parents=True)
    (repo / "mlruns" / "0" / "meta.yaml").write_text("name: Default\n", encoding="utf-8")
    record, patch, _ = _train(repo, env)
    assert record["git"]["dirty"] is False, patch[:500]
    assert patch == "" and "untracked_not_captured" not in record["git"]
    # A real change next to them is still captured, and only it.
    (repo / "model.py").write_text("LAYERS = 3\n", encoding="utf-8")
    snapshot = capture_git(
        repo, exclude=[repo / ".runfolio-cache"], exclude_subfolders_of=[repo / "runs"]
    )
    assert snapshot is not None and snapshot.dirty
    assert [line for line in snapshot.patch.splitlines() if line.startswith("diff --git")] == [
        "diff --git a/model.py b/model.py"
    ]


def test_the_site_marker_is_the_one_the_site_writer_writes() -> None:
    assert SITE_MANIFEST == MANIFEST


def test_a_tracked_site_folder_changed_by_a_rebuild_is_not_a_change(git_repo: Path) -> None:
    site = git_repo / "docs"
    site.mkdir()
    (site / SITE_MANIFEST).write_text("{}\n", encoding="utf-8")
    (site / "index.html").write_text("<p>v1</p>\n", encoding="utf-8")
    git(git_repo, "add", "docs")
    git(git_repo, "commit", "-qm", "publish")
    (site / "index.html").write_text("<p>v2</p>\n", encoding="utf-8")
    snapshot = capture_git(git_repo)
    assert snapshot is not None
    assert snapshot.dirty is False and snapshot.patch == ""
