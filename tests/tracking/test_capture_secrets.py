"""What a run captures by itself never records a secret: argv, remote, patch, packages, env.

The capture runs in a real training process (a subprocess started in a real temporary
git repository, with git capture on), as it does for users; the store it writes is then
read back byte by byte.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from git_helpers import capture_env, git, init_repo
from runfolio.store.secrets import REDACTED, redact_argv


def canary(purpose: str) -> str:
    """A unique secret-looking string that must never reach the store."""
    return f"CANARY{purpose}{uuid.uuid4().hex[:12]}"


def base_env(root: Path) -> dict[str, str]:
    """:func:`capture_env` without PYTHONPATH."""
    env = capture_env(root)
    env.pop("PYTHONPATH", None)
    return env


def make_repo(root: Path, env: dict[str, str]) -> Path:
    """A repository with one commit: README.md, train.py and a tracked placeholder key."""
    repo = root / "repo"
    (repo / "config").mkdir(parents=True)
    (repo / "README.md").write_text("# demo\n", encoding="utf-8")
    (repo / "config" / "service.key").write_text("placeholder\n", encoding="utf-8")
    (repo / "train.py").write_text(TRAIN, encoding="utf-8")
    (repo / ".gitignore").write_text("ignored-secret.txt\n", encoding="utf-8")
    init_repo(repo, env)
    return repo


TRAIN = """\
import runfolio

runfolio.set_experiment("secrets")
with runfolio.start_run(run_name="capture") as run:
    runfolio.log_param("lr", 0.1)
    runfolio.log_metric("loss", 0.5)
print(run.path)
"""


def train(repo: Path, args: list[str], env: dict[str, str]) -> Path:
    """Run train.py with ``args`` in a fresh process; return its run folder."""
    done = subprocess.run(
        [sys.executable, "train.py", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return Path(done.stdout.strip().splitlines()[-1])


def store_bytes(store: Path) -> dict[str, bytes]:
    """Every file of the store, by path."""
    return {
        str(path.relative_to(store)): path.read_bytes()
        for path in sorted(store.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


@dataclass
class Captured:
    """One training run with secrets everywhere around it, and what it left."""

    repo: Path
    run_dir: Path
    record: dict[str, Any]
    canaries: dict[str, str]  # where it was planted → the secret
    files: dict[str, bytes]


# Credential-looking files left in the working tree; none may reach git.patch.
UNTRACKED_SECRETS = [
    ".env",
    ".env.local",
    "keys/deploy.pem",
    "id_rsa",
    ".netrc",
    "credentials.json",
    "secrets/api.key",
    ".aws/credentials",
    ".ssh/id_ed25519",
]


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> Captured:
    root = tmp_path_factory.mktemp("capture-secrets")
    env = base_env(root)
    repo = make_repo(root, env)
    canaries: dict[str, str] = {}

    def plant(where: str) -> str:
        canaries[where] = canary(where.replace("/", "").replace(".", "").replace(" ", ""))
        return canaries[where]

    # The working tree: secrets in untracked and tracked credential files, an ignored
    # file, and ordinary changes that the patch must keep.
    for name in UNTRACKED_SECRETS:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(f"SECRET={plant(name)}\n", encoding="utf-8")
    (repo / "config" / "service.key").write_text(plant("tracked key"), encoding="utf-8")
    (repo / "ignored-secret.txt").write_text(plant("ignored"), encoding="utf-8")
    (repo / "README.md").write_text("# demo\nchanged\n", encoding="utf-8")
    (repo / "notes.md").write_text("untracked notes\n", encoding="utf-8")
    # The repository's config: a remote with a token, an auth header.
    origin = f"https://alice:{plant('remote password')}@github.com/org/repo.git"
    git(repo, "remote", "add", "origin", f"{origin}?private_token={plant('remote query')}", env=env)
    git(repo, "config", "http.extraHeader", f"Authorization: Bearer {plant('header')}", env=env)
    # $HOME: the usual credential files.
    home = Path(env["HOME"])
    for name in (".netrc", ".git-credentials", ".aws/credentials", ".ssh/id_rsa"):
        (home / name).parent.mkdir(parents=True, exist_ok=True)
        (home / name).write_text(plant(f"home {name}"), encoding="utf-8")
    # The environment.
    for name in ("AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "HF_TOKEN", "WANDB_API_KEY", "DB_PASS"):
        env[name] = plant(f"env {name}")
    # A package installed from a URL with credentials (pip writes direct_url.json).
    site = root / "site-packages"
    dist = site / "fake_private_pkg-1.2.3.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: fake-private-pkg\nVersion: 1.2.3\n", encoding="utf-8"
    )
    url = f"git+https://oauth2:{plant('package url')}@gitlab.example.com/x/pkg.git"
    (dist / "direct_url.json").write_text(
        json.dumps({"url": url, "vcs_info": {"vcs": "git", "commit_id": "0" * 40}}),
        encoding="utf-8",
    )
    (dist / "RECORD").write_text("", encoding="utf-8")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    # The command line.
    args = [
        "--password",
        plant("argv password"),
        f"--api-key={plant('argv api key')}",
        "--hub_token",
        plant("argv hub token"),
        f"db.password={plant('argv hydra')}",
        "--data",
        f"https://bob:{plant('argv url')}@data.example.com/d.csv",
        f"ghp_{uuid.uuid4().hex}{uuid.uuid4().hex[:4]}",
        "--lr",
        "0.1",
    ]
    canaries["argv github token shape"] = args[8]
    run_dir = train(repo, args, env)
    record = yaml.safe_load((run_dir / "run.yaml").read_text(encoding="utf-8"))
    return Captured(repo, run_dir, record, canaries, store_bytes(repo / "runs"))


def test_no_canary_reaches_any_file_of_the_store(captured: Captured) -> None:
    assert len(captured.canaries) >= 25
    assert {"run.yaml", "params.yaml", "metrics.csv"} <= {
        Path(name).name for name in captured.files
    }
    for name, data in captured.files.items():
        for where, secret in captured.canaries.items():
            assert secret.encode() not in data, (where, name)


def test_secret_arguments_are_redacted_and_the_rest_kept(captured: Captured) -> None:
    assert captured.record["source"]["argv"] == [
        "--password",
        REDACTED,
        f"--api-key={REDACTED}",
        "--hub_token",
        REDACTED,
        f"db.password={REDACTED}",
        "--data",
        "https://data.example.com/d.csv",
        REDACTED,
        "--lr",
        "0.1",
    ]


def test_the_remote_is_recorded_without_its_credentials(captured: Captured) -> None:
    assert captured.record["git"]["remote_url"] == "https://github.com/org/repo.git"


def test_credential_files_stay_out_of_the_patch_and_are_listed(captured: Captured) -> None:
    git_info = captured.record["git"]
    assert git_info["dirty"] is True and git_info["patch"] == "captured/git.patch"
    assert git_info["credentials_not_captured"] == sorted(
        [*UNTRACKED_SECRETS, "config/service.key"]
    )
    patch = (captured.run_dir / "captured" / "git.patch").read_text(encoding="utf-8")
    assert "b/notes.md" in patch and "+changed" in patch  # ordinary changes are kept
    for name in [*UNTRACKED_SECRETS, "config/service.key", "ignored-secret.txt"]:
        assert f"b/{name}" not in patch, name


def test_the_patch_still_recreates_the_code_without_the_secrets(
    captured: Captured, tmp_path: Path
) -> None:
    env = base_env(tmp_path)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", str(captured.repo), str(clone), env=env)
    git(clone, "checkout", "--quiet", captured.record["git"]["commit"], env=env)
    git(clone, "apply", "--binary", str(captured.run_dir / "captured" / "git.patch"), env=env)
    assert (clone / "README.md").read_text(encoding="utf-8") == "# demo\nchanged\n"
    assert (clone / "notes.md").read_text(encoding="utf-8") == "untracked notes\n"
    assert (clone / "config" / "service.key").read_text(encoding="utf-8") == "placeholder\n"
    for name in UNTRACKED_SECRETS:
        assert not (clone / name).exists(), name


def test_packages_are_names_and_versions_only(captured: Captured) -> None:
    packages = (captured.run_dir / "captured" / "packages.txt").read_text(encoding="utf-8")
    assert "fake-private-pkg==1.2.3\n" in packages
    assert "://" not in packages and "@" not in packages


def test_the_environment_records_platform_facts_only(captured: Captured) -> None:
    assert set(captured.record["environment"]) == {
        "python",
        "implementation",
        "platform",
        "machine",
        "executable",
        "packages",
    }


def test_a_tree_whose_only_change_is_a_secret_is_dirty_without_a_patch(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    repo = make_repo(tmp_path, env)
    secret = canary("only")
    (repo / ".env").write_text(f"TOKEN={secret}\n", encoding="utf-8")
    run_dir = train(repo, [], env)
    record = yaml.safe_load((run_dir / "run.yaml").read_text(encoding="utf-8"))
    assert record["git"]["dirty"] is True
    assert record["git"]["credentials_not_captured"] == [".env"]
    assert "patch" not in record["git"]
    assert not (run_dir / "captured" / "git.patch").exists()
    for data in store_bytes(repo / "runs").values():
        assert secret.encode() not in data


# ---------------------------------------------------------------------- the argv rule itself


@pytest.mark.parametrize(
    ("argv", "recorded"),
    [
        (["--token", "t"], ["--token", REDACTED]),
        (["--token=t"], [f"--token={REDACTED}"]),
        (["-token", "t"], ["-token", REDACTED]),
        (["--api-key", "k"], ["--api-key", REDACTED]),
        (["--api_key=k"], [f"--api_key={REDACTED}"]),
        (["--apiKey", "k"], ["--apiKey", REDACTED]),
        (["--access-key", "k"], ["--access-key", REDACTED]),
        (["--wandb-key", "k"], ["--wandb-key", REDACTED]),
        (["--password", "-starts-with-a-dash"], ["--password", REDACTED]),
        (["--db-passwd", "p"], ["--db-passwd", REDACTED]),
        (["--passphrase", "p"], ["--passphrase", REDACTED]),
        (["--client-secret", "s"], ["--client-secret", REDACTED]),
        (["--secret", "s"], ["--secret", REDACTED]),
        (["--hf_token", "t"], ["--hf_token", REDACTED]),
        (["--hftoken", "t"], ["--hftoken", REDACTED]),
        (["--authToken", "t"], ["--authToken", REDACTED]),
        (["--auth", "user:pw"], ["--auth", REDACTED]),
        (["--credentials", "c.json"], ["--credentials", REDACTED]),
        (["--cookie", "c"], ["--cookie", REDACTED]),
        (["HF_TOKEN=t"], [f"HF_TOKEN={REDACTED}"]),
        (["AWS_SECRET_ACCESS_KEY=k"], [f"AWS_SECRET_ACCESS_KEY={REDACTED}"]),
        (["+db.password=p"], [f"+db.password={REDACTED}"]),
        (["wandb.api_key=k"], [f"wandb.api_key={REDACTED}"]),
        (["--use_auth_token", "--push_to_hub"], ["--use_auth_token", "--push_to_hub"]),
        (["--token"], ["--token"]),
        (["--url", "https://u:p@h.example/x?sig=s&v=1"], ["--url", "https://h.example/x?v=1"]),
        (["--db=postgresql://u:p@db/x"], ["--db=postgresql://db/x"]),
        (["ssh://git:p@h/r"], ["ssh://git@h/r"]),
        (["x", "AKIAIOSFODNN7EXAMPLE"], ["x", REDACTED]),
        (["--hf", "hf_" + "a1" * 17], ["--hf", REDACTED]),
        (["eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijklmn"], [REDACTED]),
    ],
)  # fmt: skip
def test_secret_values_are_redacted(argv: list[str], recorded: list[str]) -> None:
    assert redact_argv(argv) == recorded


@pytest.mark.parametrize(
    "argv",
    [
        ["--max_new_tokens", "512", "--tokenizer", "gpt2", "--tokens", "9"],
        ["--pad_token", "[PAD]", "--eos-token", "</s>", "--mask_token", "<mask>"],
        ["--token_ids", "1,2", "--max-token-length", "128", "--num_tokens", "5"],
        ["--sort-key", "loss", "--metric_key", "acc", "--key", "k", "--keys", "a"],
        ["--author", "me", "--authors", "us", "--secretary", "x"],
        ["-p", "8080", "--pass", "2", "--passes", "3", "--pwd", "/x"],
        ["--lr=0.1", "trainer.max_epochs=3", "model=resnet", "key=value"],
        ["https://github.com/org/repo", "git@github.com:org/repo.git", "s3://bucket/key"],
        ["--skip-connections", "sk-short", "risk-averse"],
    ],
)
def test_ordinary_arguments_are_kept(argv: list[str]) -> None:
    assert redact_argv(argv) == argv


# ---------------------------------------------------------------- the one secrets policy


@pytest.mark.parametrize(
    "path",
    [
        ".envrc",
        "secrets.toml",
        "secrets.yaml",
        "kaggle.json",
        "infra/prod.tfvars",
        "terraform.tfstate",
        ".databrickscfg",
        ".s3cfg",
        ".vault-token",
        ".my.cnf",
        "service-account.json",
        "gcp-service_account-key.json",
        ".streamlit/secrets.toml",
        "token.json",
        "AuthKey_ABC.p8",
        ".kaggle/anything",
        ".cache/huggingface/token",
        ".config/gh/hosts.yml",
        "Secrets.YAML",
    ],
)
def test_credential_file_names(path: str) -> None:
    from runfolio.store.secrets import credential_reason

    assert credential_reason(path) is not None


@pytest.mark.parametrize(
    "path",
    ["secrets.py", ".env.example", "tokenizer.json", "token_utils.py", "README.md", "key.pub"],
)
def test_code_and_templates_about_secrets_are_not_credential_files(path: str) -> None:
    from runfolio.store.secrets import credential_reason

    assert credential_reason(path) is None


@pytest.mark.parametrize(
    ("url", "stripped"),
    [
        ("https://h.example/x?key=AIzaX&v=1", "https://h.example/x?v=1"),
        (
            "https://b.s3.amazonaws.com/o?X-Amz-Signature=s&X-Amz-Credential=c&a=1",
            "https://b.s3.amazonaws.com/o?a=1",
        ),
        (
            "https://acct.blob.core.windows.net/c/b?sv=2020&sig=abc",
            "https://acct.blob.core.windows.net/c/b?sv=2020",
        ),
        ("https://h.example/cb?access_token=t#top", "https://h.example/cb#top"),
        # No secret here, though the old substring rule dropped all three.
        (
            "https://h.example/?monkey=1&author=me&sort_key=loss",
            "https://h.example/?monkey=1&author=me&sort_key=loss",
        ),
    ],
)
def test_url_query_parameters_follow_the_name_rule(url: str, stripped: str) -> None:
    from runfolio.store.secrets import strip_credentials

    assert strip_credentials(url) == stripped


def test_the_object_storage_settings_refuse_credentials_by_the_same_rule() -> None:
    from runfolio.config_schema import ConfigProblems, validate_artifacts

    for key in ("key", "session_token", "aws_secret_access_key", "accessKeyId", "sas_token"):
        with pytest.raises(ConfigProblems) as caught:
            validate_artifacts({"uri": "s3://b/p", key: "x"})
        assert any("credentials never go in" in problem for problem in caught.value.problems), key
