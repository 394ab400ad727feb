"""Artifact names and paths: refused with an error naming them, or stored and published safely.

Three sources of names: the tracking API (each ``log_*`` call), a store written by hand
(files a hostile committer could place: odd names, symlinks, hardlinks, a fifo, git's own
files, credentials), and an ``artifacts.remote.yaml`` manifest. Whatever the source, a
site build copies nothing from outside the run folder, publishes nothing under a name the
API refuses, and links each published file by a percent-encoded relative path that
resolves to that file inside the run's site folder.
"""

from __future__ import annotations

import os
import posixpath
import subprocess
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from html_helpers import Element, parse_html
from runfolio import Store
from runfolio.errors import InvalidInputError
from runfolio.site.build import build_site
from runfolio.site.previews import is_inert_name
from runfolio.site.writer import MANIFEST
from runfolio.tracking.run import Run

CANARY = "CANARY-artifact-paths-5e0c71"
PACKAGES = "captured/packages.txt"  # every run captures it; its page publishes it

# Every path the API must refuse, by what it tries.
REFUSED = {
    "parent": "../x",
    "parent-deep": "a/../../x",
    "dotdot": "..",
    "absolute": "/etc/passwd",
    "unc": "//server/share/x",
    "drive-backslash": "C:\\x",
    "drive-relative": "C:x",
    "drive-slash": "c:/x",
    "backslash": "a\\b",
    "backslash-parent": "..\\x",
    "newline": "x\ny",
    "carriage-return": "x\ry",
    "nul": "x\x00y",
    "escape-sequence": "x\x1b[31m",
    "delete": "x\x7f",
    "c1-next-line": "x\x85y",
    "line-separator": "x\u2028y",
    "paragraph-separator": "x\u2029y",
    "rtl-override": "gpj\u202e.exe",
    "bidi-isolate": "x\u2066y",
    "git": ".git/config",
    "git-upper": ".GIT/config",
    "git-nested": "a/.git/hooks/post-checkout",
    "git-file": "a/.Git",
    "git-trailing-dot": ".git./x",
    "git-trailing-space": ".git /x",
    "git-short-name": "GIT~1/x",
    "git-stream": ".git::$INDEX_ALLOCATION/x",
    "long-name": "a" * 201,
    "long-multibyte-name": "é" * 101,  # 202 bytes
    "long-path": "/".join(["d" * 100] * 11),  # 1,110 bytes
    "lone-surrogate": "x\ud800",
}

# Paths the API accepts: each must land inside artifacts/ and be published safely.
ACCEPTED = [
    "%2e%2e/x.txt",
    "..%2fx.txt",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "...",
    "..../x.txt",
    ".runfolio-site.json",
    ".runfolio-snapshot.json",
    "a" * 200,
    "é" * 100,  # 200 bytes
    "/".join(["d" * 100] * 10),  # 1,009 bytes
    "CON",
    "con.txt",
    "NUL",
    "aux/x.txt",
    "trailing-dot.",
    "trailing-space ",
    " leading-space",
    "Case.txt",
    "case.txt",
    unicodedata.normalize("NFC", "café.txt"),
    unicodedata.normalize("NFD", "café.txt"),
    "file#fragment.txt",
    "q?x=1&y=2.txt",
    "javascript:alert(1)",
    "<script>alert(1)</script>.txt",
    "\"'><img src=x onerror=alert(1)>.txt",
    "{{ 7*7 }}.txt",
    "~user",
    "-rf",
    "--help",
    "sp ace/ta b.txt",
    "emoji 🎉.txt",
    "zero\u200bwidth.txt",
    ".gitignore-not",
    ".gitx/y.txt",
    ".git.x",
    "git~2/x.txt",
    "a/b/c/d/e/f/g/h/i/j/k.txt",
    "page.html",
    "drawing.svg",
    "doc.xhtml",
]

# Logged through the API and kept, but listed without being published.
CREDENTIAL_NAMES = [
    ".env",
    "config/.env.production",
    "prod.env",
    "id_rsa",
    "ID_ED25519",
    "keys/server.pem",
    "tls.key",
    ".netrc",
    "credentials",
    "credentials.json",
    "gcp-credentials-prod.json",
    "client_secret_123.json",
    ".aws/credentials",
    ".ssh/config",
    ".docker/config.json",
    ".kube/config",
    ".git-credentials",
    "store.p12",
    ".htaccess",
]
# Names close to a credential's that are plainly not one: published.
NOT_CREDENTIALS = [".env.example", "id_rsa.pub", "credentials.py", "keys.md", "monkey.txt"]


class _FakeFigure:
    """Enough of a matplotlib figure for log_figure: ``savefig(path)``."""

    def savefig(self, target: Path) -> None:
        Path(target).write_bytes(b"\x89PNG fake")


def _calls(run: Run, source: Path) -> dict[str, Callable[[str], Any]]:
    """Every API call that takes an artifact path, as a function of that path."""
    return {
        "log_artifact": lambda p: run.log_artifact(source / "a.txt", artifact_path=p),
        "log_artifacts": lambda p: run.log_artifacts(source, artifact_path=p),
        "log_text": lambda p: run.log_text("x", p),
        "log_dict": lambda p: run.log_dict({"a": 1}, p),
        "log_figure": lambda p: run.log_figure(_FakeFigure(), p),
        "log_model": lambda p: run.log_model({"a": 1}, p),
    }


def _tree(root: Path) -> list[str]:
    """Every path under ``root`` (symlinks not followed), relative and sorted."""
    found = []
    for current, dirs, files in os.walk(root):
        for name in dirs + files:
            found.append(os.path.relpath(os.path.join(current, name), root))
    return sorted(found)


@pytest.fixture
def run(tmp_path: Path) -> Run:
    """A live run in a fresh store, and a source folder holding a.txt."""
    source = tmp_path / "source"
    source.mkdir()
    (source / "a.txt").write_text("alpha\n", encoding="utf-8")
    return Store(tmp_path / "runs").start_run("paths", run_name="paths")


# ---------------------------------------------------------------------- refused by the API


@pytest.mark.parametrize("path", REFUSED.values(), ids=REFUSED.keys())
def test_escaping_and_unsafe_paths_are_refused_naming_the_path(
    run: Run, tmp_path: Path, path: str
) -> None:
    before = _tree(tmp_path)
    for call_name, call in _calls(run, tmp_path / "source").items():
        with pytest.raises(InvalidInputError) as caught:
            call(path)
        assert repr(path) in str(caught.value), (call_name, str(caught.value))
    assert _tree(tmp_path) == before


def _bad_source_names() -> list[str]:
    """File names a Linux filesystem allows but an artifact may not have."""
    return ["x\ny.txt", "tab\tname.txt", "esc\x1b[31m.txt", "back\\slash.txt", "rtl\u202etxt.exe"]


@pytest.mark.parametrize("name", _bad_source_names())
def test_a_source_file_with_an_unsafe_name_is_refused_and_nothing_is_copied(
    run: Run, tmp_path: Path, name: str
) -> None:
    source = tmp_path / "source"
    (source / name).write_text("bad\n", encoding="utf-8")
    (source / "zzz.txt").write_text("good\n", encoding="utf-8")
    before = _tree(tmp_path)
    with pytest.raises(InvalidInputError) as caught:
        run.log_artifact(source / name)
    assert repr(name) in str(caught.value)
    with pytest.raises(InvalidInputError) as caught:
        run.log_artifacts(source)
    assert repr(name) in str(caught.value)
    assert _tree(tmp_path) == before  # a.txt and zzz.txt were not copied either


def test_log_artifacts_skips_git_folders_and_symlinked_folders(run: Run, tmp_path: Path) -> None:
    source = tmp_path / "source"
    (source / ".git").mkdir()
    (source / ".git" / "config").write_text(f"[remote]\n\turl = {CANARY}\n", encoding="utf-8")
    (source / "sub" / ".GIT").mkdir(parents=True)
    (source / "sub" / ".GIT" / "HEAD").write_text(CANARY, encoding="utf-8")
    (source / "sub" / ".git").write_text(f"gitdir: {CANARY}\n", encoding="utf-8")
    (source / "sub" / "kept.txt").write_text("kept\n", encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(CANARY, encoding="utf-8")
    (source / "linked-dir").symlink_to(outside, target_is_directory=True)
    (source / "linked-file.txt").symlink_to(source / "a.txt")
    run.log_artifacts(source)
    assert _tree(run.artifact_dir) == ["a.txt", "linked-file.txt", "sub", "sub/kept.txt"]
    assert (run.artifact_dir / "linked-file.txt").read_text(encoding="utf-8") == "alpha\n"
    assert not (run.artifact_dir / "linked-file.txt").is_symlink()


@pytest.mark.parametrize("kind", ["fifo", "dangling-symlink"])
def test_special_files_are_refused_before_anything_is_copied(
    run: Run, tmp_path: Path, kind: str
) -> None:
    source = tmp_path / "source"
    special = source / "zz-special"
    if kind == "fifo":
        os.mkfifo(special)
    else:
        special.symlink_to(tmp_path / "missing")
    before = _tree(tmp_path)
    # A fifo would block a copy forever: refused at once, naming the file.
    with pytest.raises(InvalidInputError, match="zz-special"):
        run.log_artifact(special)
    with pytest.raises(InvalidInputError, match="zz-special"):
        run.log_artifacts(source)
    assert _tree(tmp_path) == before


@pytest.mark.parametrize(
    "call_name",
    [
        "log_artifact",
        "log_artifacts",
        "log_text",
        "log_dict",
        "log_figure",
        "log_model",
    ],
)
@pytest.mark.parametrize("link", ["folder", "file"])
def test_no_artifact_write_goes_through_a_symlink(
    run: Run, tmp_path: Path, call_name: str, link: str
) -> None:
    """A run folder doctored with a symlink (a resumed run, say) is never written through."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a.txt").write_text(CANARY, encoding="utf-8")
    (outside / "model.pkl").write_text(CANARY, encoding="utf-8")
    run.artifact_dir.mkdir(exist_ok=True)
    if link == "folder":
        (run.artifact_dir / "x").symlink_to(outside, target_is_directory=True)
    else:
        (run.artifact_dir / "x").mkdir()
        (run.artifact_dir / "x" / "a.txt").symlink_to(outside / "a.txt")
        (run.artifact_dir / "x" / "model.pkl").symlink_to(outside / "model.pkl")
    # Calls taking a folder write x/a.txt (x/model.pkl); the others are given the file.
    path = "x" if call_name in ("log_artifact", "log_artifacts", "log_model") else "x/a.txt"
    before = {p.name: p.read_bytes() for p in outside.iterdir()}
    with pytest.raises(InvalidInputError, match="symlink"):
        _calls(run, tmp_path / "source")[call_name](path)
    assert {p.name: p.read_bytes() for p in outside.iterdir()} == before


# ---------------------------------------------------------------------- accepted, then published


def _article(article: Element) -> dict[str, Any]:
    """One artifact article of a run page: its name, links (href/src) and notes."""
    links = [
        e.attr("href") if e.tag == "a" else e.attr("src")
        for e in article.elements
        if (e.tag == "a" and e.attr("href"))
        or (e.tag == "img" and not e.attr("src").startswith("data:"))
    ]
    codes = article.find("code")
    return {
        "name": codes[0].text if codes else "",
        "links": links,
        "notes": [p.text for p in article.find("p", class_="note")],
    }


@dataclass
class Published:
    """A built run page: its artifacts by name, and the files of the run's site folder."""

    site: Path
    page: Path
    run_dir: str  # site-relative folder of the run's files
    articles: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)


def build_and_read(store: Path, run: Run, site: Path) -> tuple[Published, list[str]]:
    """Build ``store`` and read back the page and published files of ``run``."""
    report = build_site(store, site, config_root=store.parent)
    experiment = run.path.parent.name
    page = site / "experiments" / experiment / "runs" / f"{run.run_id}.html"
    # No newline translation: names keep \r.
    articles = parse_html(page.read_bytes().decode("utf-8")).find("article", class_="artifact")
    run_dir = f"experiments/{experiment}/runs/{run.run_id}"
    published = Published(site, page, run_dir)
    for article in map(_article, articles):
        published.articles[article["name"]] = article
    root = site / run_dir
    for current, _dirs, names in os.walk(root):
        for name in names:
            path = Path(current, name)
            published.files[path.relative_to(root).as_posix()] = path.read_bytes()
    return published, report.problems


def assert_site_is_contained(site: Path) -> int:
    """No symlink, no hardlink and no canary anywhere in the site; return the files seen."""
    seen = 0
    for current, dirs, files in os.walk(site):
        for name in dirs + files:
            path = os.path.join(current, name)
            info = os.lstat(path)
            assert not os.path.islink(path), path
            if name in files:
                assert info.st_nlink == 1, path
                with open(path, "rb") as handle:
                    assert CANARY.encode() not in handle.read(), path
                seen += 1
    return seen


def assert_links_stay_in_the_run_folder(published: Published) -> dict[str, str]:
    """Every artifact link resolves inside the run's site folder; return file → href."""
    page_dir = posixpath.dirname(published.page.relative_to(published.site).as_posix())
    linked: dict[str, str] = {}
    for name, article in published.articles.items():
        for href in article["links"]:
            parts = urlsplit(href)
            assert not parts.scheme and not parts.netloc and not href.startswith("/"), href
            assert not parts.query and not parts.fragment, href  # '?' and '#' are encoded
            target = posixpath.normpath(posixpath.join(page_dir, unquote(href)))
            assert target.startswith(published.run_dir + "/"), (name, href)
            relative = target[len(published.run_dir) + 1 :]
            assert relative in published.files, (name, href)
            linked[relative] = href
    return linked


def test_accepted_paths_are_stored_inside_and_published_under_their_own_names(
    run: Run, tmp_path: Path
) -> None:
    contents = {}
    for index, path in enumerate(ACCEPTED):
        stored = run.log_text(f"content {index}\n", path)
        assert stored.resolve().is_relative_to(run.artifact_dir.resolve()), path
        assert stored.read_text(encoding="utf-8") == f"content {index}\n"
        contents[path.rstrip("/")] = f"content {index}\n".encode()
    run.end()
    # Distinct names stay distinct files: case and Unicode normalisation included.
    assert len(_tree(run.artifact_dir)) >= len(ACCEPTED)

    published, problems = build_and_read(run.path.parent.parent, run, tmp_path / "site")
    assert problems == []
    expected = {
        f"artifacts/{path}" + ("" if is_inert_name(path) else ".txt") for path in ACCEPTED
    } | {PACKAGES}
    assert set(published.files) == expected
    for path, data in contents.items():
        suffix = "" if is_inert_name(path) else ".txt"
        assert published.files[f"artifacts/{path}{suffix}"] == data, path
    linked = assert_links_stay_in_the_run_folder(published)
    assert set(linked) == expected
    # Encoded once more than the name: a server decoding the URL gets the literal name.
    assert "%252e%252e/x.txt" in linked["artifacts/%2e%2e/x.txt"]
    assert linked["artifacts/..%2fx.txt"].endswith("/artifacts/..%252fx.txt")
    assert linked["artifacts/file#fragment.txt"].endswith("file%23fragment.txt")
    assert_site_is_contained(published.site)


def test_accepted_paths_can_be_committed_with_git(run: Run, tmp_path: Path) -> None:
    for index, path in enumerate(ACCEPTED + CREDENTIAL_NAMES + NOT_CREDENTIALS):
        run.log_text(f"content {index}\n", path)
    run.end()
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    for args in (["init", "--quiet"], ["add", "--all", "runs"]):
        done = subprocess.run(["git", *args], cwd=tmp_path, env=env, capture_output=True)
        assert done.returncode == 0, done.stderr.decode()
    listed = subprocess.run(
        ["git", "ls-files", "-z", "runs"], cwd=tmp_path, env=env, capture_output=True, check=True
    ).stdout.split(b"\0")
    artifacts = [name for name in listed if b"/artifacts/" in name]
    assert len(artifacts) == len(_tree_files(run.artifact_dir))


def _tree_files(root: Path) -> list[str]:
    return [p for p in _tree(root) if (root / p).is_file()]


def test_credential_looking_artifacts_are_listed_but_not_published(
    run: Run, tmp_path: Path
) -> None:
    for path in CREDENTIAL_NAMES + NOT_CREDENTIALS:
        run.log_text(f"{CANARY} in {path}\n" if path in CREDENTIAL_NAMES else "plain\n", path)
    run.end()
    published, problems = build_and_read(run.path.parent.parent, run, tmp_path / "site")
    assert problems == []
    for path in CREDENTIAL_NAMES:
        article = published.articles[path]
        assert article["links"] == [], path
        note = " ".join(article["notes"])
        assert "not published" in note and ("looks like" in note or "server" in note), note
        assert f"artifacts/{path}" not in published.files
    for path in NOT_CREDENTIALS:
        copy = f"artifacts/{path}" + ("" if is_inert_name(path) else ".txt")
        assert published.files[copy] == b"plain\n", path
    assert_site_is_contained(published.site)


def test_a_copy_name_taken_by_another_file_is_not_published_twice(run: Run, tmp_path: Path) -> None:
    run.log_text("<p>the page</p>", "page.html")
    run.log_text("the text file", "page.html.txt")
    run.end()
    published, _ = build_and_read(run.path.parent.parent, run, tmp_path / "site")
    assert published.files["artifacts/page.html.txt"] == b"<p>the page</p>"
    taken = published.articles["page.html.txt"]
    assert taken["links"] == [] and "taken" in " ".join(taken["notes"])


# ---------------------------------------------------------------------- a store made by hand

HOSTILE_NAMES = {
    "newline": "x\ny.txt",
    "carriage-return": "x\ry.txt",
    "escape-sequence": "esc\x1b[2J.txt",
    "backslash": "..\\..\\escape.txt",
    "rtl-override": "rtl\u202etxt.exe",
    "line-separator": "ls\u2028.txt",
}


def test_a_hand_made_store_publishes_nothing_from_outside(tmp_path: Path) -> None:
    """Files a committer (or anyone with the folder) placed by hand, the API bypassed."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(CANARY, encoding="utf-8")
    (outside / "hardlinked.txt").write_text(CANARY, encoding="utf-8")
    repo_config = tmp_path / ".git" / "config"
    repo_config.parent.mkdir()
    repo_config.write_text(f'[remote "origin"]\n\turl = https://x:{CANARY}@h/r\n', "utf-8")
    store = Store(tmp_path / "runs")
    with store.start_run("hand", run_name="hand") as made:
        made.log_text("fine\n", "fine.txt")
    artifacts = made.artifact_dir
    for name in HOSTILE_NAMES.values():
        (artifacts / name).write_text("odd name\n", encoding="utf-8")
    (artifacts / ".git").mkdir()
    (artifacts / ".git" / "config").write_text(CANARY, encoding="utf-8")
    (artifacts / "GIT~1").mkdir()
    (artifacts / "GIT~1" / "config").write_text(CANARY, encoding="utf-8")
    (artifacts / "link.txt").symlink_to(outside / "secret.txt")
    (artifacts / "gitconfig.txt").symlink_to(repo_config)
    (artifacts / "relative.txt").symlink_to("../../../../outside/secret.txt")
    (artifacts / "linked-dir").symlink_to(outside, target_is_directory=True)
    (artifacts / "loop").symlink_to("loop")
    (artifacts / "loop-a").symlink_to("loop-b")
    (artifacts / "loop-b").symlink_to("loop-a")
    (artifacts / "dangling.txt").symlink_to(tmp_path / "missing")
    os.link(outside / "hardlinked.txt", artifacts / "hard.txt")
    os.mkfifo(artifacts / "pipe.txt")
    (artifacts / ".env").write_text(f"TOKEN={CANARY}\n", encoding="utf-8")
    (artifacts / ".aws").mkdir()
    (artifacts / ".aws" / "credentials").write_text(CANARY, encoding="utf-8")
    # The captured files run.yaml names, pointed elsewhere.
    packages = made.path / "captured" / "packages.txt"
    packages.unlink(missing_ok=True)
    packages.parent.mkdir(exist_ok=True)
    packages.symlink_to(outside / "secret.txt")

    published, problems = build_and_read(store.root, made, tmp_path / "site")
    assert set(published.files) == {"artifacts/fine.txt"}
    listed = set(published.articles)
    for name in [*HOSTILE_NAMES.values(), ".git/config", "link.txt", "hard.txt", ".env"]:
        assert name in listed, name
        assert published.articles[name]["links"] == [], name
        assert "not published" in " ".join(published.articles[name]["notes"]), name
    assert_links_stay_in_the_run_folder(published)
    assert_site_is_contained(published.site)
    assert CANARY not in (published.site / MANIFEST).read_text(encoding="utf-8")
    assert CANARY not in " ".join(problems)


# ---------------------------------------------------------------------- remote manifests


def _manifest(run_dir: Path, *paths: str) -> None:
    """Write an artifacts.remote.yaml naming ``paths`` (as a hand-edit would)."""
    entries = "".join(
        f"- path: {path!r}\n  sha256: {'a' * 64}\n  size: 10\n"
        f"  uri: s3://bucket/lab/sha256/aa/{'a' * 64}\n"
        for path in paths
    )
    (run_dir / "artifacts.remote.yaml").write_text(
        f"format: 1\nartifacts:\n{entries}", encoding="utf-8"
    )


@pytest.mark.parametrize("path", ["../escape.txt", "a/../../x", "/etc/passwd", ".git/config"])
def test_a_manifest_naming_a_path_outside_is_a_problem_naming_it(tmp_path: Path, path: str) -> None:
    store = Store(tmp_path / "runs")
    with store.start_run("remote", run_name="remote") as made:
        made.log_text("fine\n", "fine.txt")
    _manifest(made.path, "ok.txt", path)
    published, problems = build_and_read(store.root, made, tmp_path / "site")
    assert any("artifacts.remote.yaml" in p and repr(path) in p for p in problems), problems
    assert set(published.files) == {"artifacts/fine.txt", PACKAGES}
    assert_site_is_contained(published.site)


def test_a_remote_credential_is_never_fetched_or_linked(tmp_path: Path) -> None:
    # A reachable-looking bucket whose endpoint nothing listens on: a fetch would fail
    # loudly (a problem), so no problem proves that nothing was fetched.
    (tmp_path / "runfolio.yaml").write_text(
        "store: runs\nartifacts:\n  uri: s3://bucket/lab\n"
        "  endpoint_url: http://127.0.0.1:9\n  public_url: https://cdn.example.org\n",
        encoding="utf-8",
    )
    store = Store(tmp_path / "runs")
    with store.start_run("remote", run_name="remote") as made:
        made.log_text("fine\n", "fine.txt")
    _manifest(made.path, ".env", "keys/deploy.pem")
    published, problems = build_and_read(store.root, made, tmp_path / "site")
    assert problems == []
    for name in (".env", "keys/deploy.pem"):
        article = published.articles[name]
        assert article["links"] == [], article  # not even the bucket's public link
        assert "looks like" in " ".join(article["notes"]).lower()
