"""The ``artifacts`` settings of runfolio.yaml, and the manifest format (no server needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from runfolio.config_schema import ConfigProblems, validate_artifacts
from runfolio.config_values import RemoteSettings
from runfolio.objectstore.errors import ManifestError
from runfolio.objectstore.manifest import (
    RemoteArtifact,
    forget_artifacts,
    gitignore_text,
    read_manifest,
    record_artifacts,
)
from runfolio.site.config import SiteConfigError, load_site_config, parse_site_config

SHA = "ab" + "0" * 62


def _parse(value: object) -> tuple[RemoteSettings | None, list[str]]:
    try:
        return validate_artifacts(value), []
    except ConfigProblems as exc:
        return None, list(exc.problems)


def test_a_uri_alone_takes_the_defaults() -> None:
    settings, problems = _parse("s3://ml-artifacts/iris/lab/")
    assert problems == []
    assert settings == RemoteSettings(bucket="ml-artifacts", prefix="iris/lab")
    assert settings.threshold == 1_000_000 and settings.previews
    assert settings.uri == "s3://ml-artifacts/iris/lab"
    assert settings.object_uri(SHA) == f"s3://ml-artifacts/iris/lab/sha256/ab/{SHA}"
    assert RemoteSettings(bucket="b").object_uri(SHA) == f"s3://b/sha256/ab/{SHA}"


def test_every_key_of_the_mapping() -> None:
    settings, problems = _parse(
        {
            "uri": "s3://b",
            "endpoint_url": "http://127.0.0.1:9000/",
            "region": "eu-west-1",
            "profile": "lab",
            "threshold": "2 MiB",
            "public_url": "https://b.example.org/",
            "previews": False,
        }
    )
    assert problems == []
    assert settings == RemoteSettings(
        bucket="b",
        endpoint_url="http://127.0.0.1:9000",
        region="eu-west-1",
        profile="lab",
        threshold=2 * 2**20,
        public_url="https://b.example.org",
        previews=False,
    )


def test_every_problem_is_reported_at_once_under_its_key() -> None:
    settings, problems = _parse(
        {
            "uri": "https://bucket/x",
            "endpoint_url": "http://user:pw@minio:9000",
            "region": "EU WEST",
            "threshold": "-1 MB",
            "public_url": "ftp://example.org",
            "previews": "yes",
            "aws_secret_access_key": "hunter2",
            "endpoint": "http://x",
        }
    )
    assert settings is None
    assert problems == [  # in the order of the keys
        "artifacts.uri: 'https://bucket/x' must be an s3://, gs://, az://, abfs:// or file:// URI",
        "artifacts.endpoint_url: must not contain a user name or password; credentials come "
        "from the environment or an AWS profile",
        "artifacts.region: expected a region name like 'eu-west-1', got 'EU WEST'",
        "artifacts.threshold: '-1 MB' is not a size like '5 MB' (units: B, KB, MB, GB, KiB, "
        "MiB, GiB)",
        "artifacts.public_url: 'ftp://example.org' must be an http:// or https:// URL",
        "artifacts.previews: expected true or false, got 'yes'",
        "artifacts.aws_secret_access_key: credentials never go in runfolio.yaml (it is "
        "committed, and may be published); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
        "in the environment, or name an AWS profile with 'profile'",
        "artifacts.endpoint: unknown key; did you mean 'artifacts.endpoint_url'?",
    ]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({}, "artifacts.uri: required (the bucket and folder, s3://bucket/prefix)"),
        (
            ["s3://b"],
            "artifacts: expected an s3://bucket/prefix URI (or gs://, az://, abfs://, file://) "
            "or a mapping with 'uri'",
        ),
        ("s3://", "artifacts.uri: 's3://' names no bucket"),
        ("s3://b/a/../c", "artifacts.uri: 's3://b/a/../c': the folder must not have empty"),
        (
            "s3://key:secret@b",
            "artifacts.uri: 's3://key:secret@b': put the server in 'endpoint_url'",
        ),
    ],
)
def test_bad_values(value: object, problem: str) -> None:
    settings, problems = _parse(value)
    assert settings is None
    assert len(problems) == 1 and problems[0].startswith(problem)


def test_the_site_config_validates_the_key_with_the_others(tmp_path: Path) -> None:
    (tmp_path / "runfolio.yaml").write_text(
        "titel: x\nartifacts:\n  uri: s3://b/p\n  key: AKIA\n", encoding="utf-8"
    )
    with pytest.raises(SiteConfigError) as caught:
        load_site_config(tmp_path)
    assert [p.split(":")[0] for p in caught.value.problems] == ["titel", "artifacts.key"]
    config = parse_site_config({"artifacts": "s3://b/p"})
    assert config.artifacts == RemoteSettings(bucket="b", prefix="p")
    assert parse_site_config({}).artifacts is None


def test_public_links() -> None:
    settings = RemoteSettings(bucket="b", prefix="x", public_url="https://cdn.example.org/b")
    assert settings.public_href(f"s3://b/x y/{SHA}") == f"https://cdn.example.org/b/x%20y/{SHA}"
    assert settings.public_href(f"s3://other/x/{SHA}") is None
    assert RemoteSettings(bucket="b").public_href(f"s3://b/{SHA}") is None
    assert settings.holds(settings.object_uri(SHA), SHA)
    assert not settings.holds(settings.object_uri(SHA), "cd" + SHA[2:])
    assert not settings.holds(f"s3://b/elsewhere/{SHA}", SHA)


# ---------------------------------------------------------------------------- manifest


def _artifact(path: str, sha: str = SHA, size: int = 10) -> RemoteArtifact:
    return RemoteArtifact(path, size, sha, f"s3://b/sha256/{sha[:2]}/{sha}")


def test_the_manifest_round_trips_sorted_and_keeps_unknown_keys(tmp_path: Path) -> None:
    record_artifacts(tmp_path, [_artifact("z.bin"), _artifact("a/b.bin", size=0)])
    record_artifacts(tmp_path, [_artifact("m.bin"), _artifact("z.bin", size=11)])
    manifest = tmp_path / "artifacts.remote.yaml"
    data = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    assert data["format"] == 1
    assert [entry["path"] for entry in data["artifacts"]] == ["a/b.bin", "m.bin", "z.bin"]
    assert read_manifest(tmp_path)["z.bin"].size == 11
    # Keys a later version adds survive a rewrite.
    data["note"] = "kept"
    data["artifacts"][0]["etag"] = "abc"
    manifest.write_text(yaml.safe_dump(data), encoding="utf-8")
    record_artifacts(tmp_path, [_artifact("n.bin")])
    again = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    assert again["note"] == "kept" and again["artifacts"][0]["etag"] == "abc"
    forget_artifacts(tmp_path, ["a/b.bin", "m.bin", "n.bin", "never.bin"])
    assert sorted(read_manifest(tmp_path)) == ["z.bin"]
    forget_artifacts(tmp_path, ["z.bin"])
    assert not manifest.exists() and not (tmp_path / ".gitignore").exists()
    assert read_manifest(tmp_path) == {}


def test_a_gitignore_someone_else_wrote_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.tmp\n", encoding="utf-8")
    record_artifacts(tmp_path, [_artifact("w.bin")])
    forget_artifacts(tmp_path, ["w.bin"])
    assert (tmp_path / ".gitignore").read_text(encoding="utf-8") == "*.tmp\n"


def test_gitignore_patterns_are_anchored_and_escaped() -> None:
    text = gitignore_text(["!a*?.bin", "#x/[y]", "trailing "])
    assert text.splitlines()[2:] == [
        "/artifacts/\\!a\\*\\?.bin",
        "/artifacts/\\#x/\\[y\\]",
        "/artifacts/trailing\\ ",
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[1, 2]\n", "expected a mapping with 'format' and 'artifacts'"),
        ("format: 2\nartifacts: []\n", "written in format 2 by a newer runfolio"),
        ("format: 1\nartifacts: {}\n", "'artifacts' must be a list of entries"),
        ("format: 1\nartifacts:\n- path: a\n", "artifacts[0]: missing size, sha256, uri"),
        (
            f"format: 1\nartifacts:\n- {{path: /etc/x, size: 1, sha256: {SHA}, uri: s3://b/k}}\n",
            "artifacts[0]: invalid artifact path '/etc/x'",
        ),
        (
            f"format: 1\nartifacts:\n- {{path: a//b, size: 1, sha256: {SHA}, uri: s3://b/k}}\n",
            "artifacts[0]: path 'a//b' must name a file, written normalised",
        ),
        (
            "format: 1\nartifacts:\n- {path: a, size: 1, sha256: ABC, uri: s3://b/k}\n",
            "artifacts[0]: sha256 must be 64 lower-case hex digits",
        ),
        (
            f"format: 1\nartifacts:\n- {{path: a, size: -1, sha256: {SHA}, uri: s3://b/k}}\n",
            "artifacts[0]: size must be a whole number of bytes",
        ),
        (
            f"format: 1\nartifacts:\n- {{path: a, size: 1, sha256: {SHA}, uri: /tmp/k}}\n",
            "artifacts[0]: uri must be s3://bucket/key",
        ),
        (
            f"format: 1\nartifacts:\n- {{path: a, size: 1, sha256: {SHA}, uri: s3://b/k}}\n"
            f"- {{path: a, size: 1, sha256: {SHA}, uri: s3://b/k}}\n",
            "artifacts[1]: 'a' is listed twice",
        ),
    ],
)
def test_a_bad_manifest_names_the_file_and_the_entry(
    tmp_path: Path, text: str, problem: str
) -> None:
    manifest = tmp_path / "artifacts.remote.yaml"
    manifest.write_text(text, encoding="utf-8")
    with pytest.raises(ManifestError) as caught:
        read_manifest(tmp_path)
    assert str(caught.value).startswith(f"{manifest}: {problem}")
    # A bad manifest is never rewritten by a later logging call.
    with pytest.raises(ManifestError):
        record_artifacts(tmp_path, [_artifact("new.bin")])
    assert manifest.read_text(encoding="utf-8") == text
