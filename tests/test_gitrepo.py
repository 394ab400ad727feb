"""Tests of runfolio.gitrepo against real git repositories made in temporary directories."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runfolio import gitrunner
from runfolio.errors import GitError, GitTimeoutError
from runfolio.gitrepo import GitSnapshot, capture_git, find_repo_root, strip_credentials

POSIX = os.name == "posix"


@pytest.fixture(autouse=True)
def _isolated_git_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide the developer's global and system git config from every test here."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig-global"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` and return its stdout."""
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout


def commit_all(repo: Path, message: str = "more") -> str:
    """Commit everything in ``repo`` and return the new HEAD sha."""
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", message)
    return git(repo, "rev-parse", "HEAD").strip()


def tree_state(root: Path) -> dict[str, tuple[str, bytes, bool]]:
    """Map each file under ``root`` (outside .git) to (kind, content or link target, exec)."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in filenames:
            path = Path(dirpath, name)
            rel = path.relative_to(root).as_posix()
            if rel == ".git":
                continue
            if path.is_symlink():
                state[rel] = ("link", os.fsencode(os.readlink(path)), False)
            else:
                executable = bool(path.stat().st_mode & stat.S_IXUSR)
                state[rel] = ("file", path.read_bytes(), executable)
    return state


def apply_patch(snapshot: GitSnapshot, target: Path) -> None:
    """Apply the snapshot's patch in ``target`` the way a user would, with `git apply`."""
    patch_file = target.parent / f"{target.name}.patch"
    patch_file.write_bytes(snapshot.patch.encode("utf-8", "surrogateescape"))
    git(target, "apply", str(patch_file))


def checkout_and_apply(repo: Path, snapshot: GitSnapshot, target: Path) -> Path:
    """Check out the snapshot's commit in a fresh worktree and apply its patch there."""
    assert snapshot.commit is not None
    git(repo, "worktree", "add", "--detach", str(target), snapshot.commit)
    apply_patch(snapshot, target)
    return target


def test_clean_repo(git_repo: Path) -> None:
    snapshot = capture_git(git_repo)

    assert snapshot == GitSnapshot(
        root=git_repo.resolve(),
        commit=git(git_repo, "rev-parse", "HEAD").strip(),
        branch="main",
        dirty=False,
        remote_url=None,
        patch="",
        skipped_untracked=(),
    )


def test_patch_recreates_dirty_tree_byte_for_byte(git_repo: Path, tmp_path: Path) -> None:
    repo = git_repo
    (repo / "gone.txt").write_text("to be deleted\n", encoding="utf-8")
    (repo / "script.sh").write_text("#!/bin/sh\necho hi\n", encoding="utf-8")
    (repo / "rename me.txt").write_text("".join(f"line {i}\n" for i in range(30)), "utf-8")
    (repo / "git mv me.txt").write_text("moved by git mv\n", encoding="utf-8")
    (repo / "model.bin").write_bytes(bytes(range(256)) * 4)
    (repo / "thing").write_text("a file that becomes a directory\n", encoding="utf-8")
    (repo / "folder").mkdir()
    (repo / "folder" / "inner.txt").write_text("a directory that becomes a file\n", "utf-8")
    (repo / "staged.txt").write_text("v1\n", encoding="utf-8")
    (repo / "crlf.txt").write_bytes(b"a\r\nb\r\n")
    (repo / "no newline.txt").write_bytes(b"x")
    if POSIX:
        (repo / "link").symlink_to("README.md")
    commit_all(repo, "files to change")

    (repo / "README.md").write_text("# demo\n\nchanged ✓\n", encoding="utf-8")
    (repo / "gone.txt").unlink()
    (repo / "script.sh").chmod(0o755)
    (repo / "renamed").mkdir()
    lines = [f"line {i}\n" for i in range(30)]
    lines[3] = "line three, edited\n"
    (repo / "renamed" / "ü name.txt").write_text("".join(lines), encoding="utf-8")
    (repo / "rename me.txt").unlink()
    git(repo, "mv", "git mv me.txt", "moved.txt")
    (repo / "model.bin").write_bytes(bytes(reversed(range(256))) * 4 + b"\0tail")
    (repo / "thing").unlink()
    (repo / "thing").mkdir()
    (repo / "thing" / "inner.txt").write_text("now inside a directory\n", encoding="utf-8")
    (repo / "folder" / "inner.txt").unlink()
    (repo / "folder").rmdir()
    (repo / "folder").write_text("now a file\n", encoding="utf-8")
    (repo / "staged.txt").write_text("v2\n", encoding="utf-8")
    git(repo, "add", "staged.txt")
    (repo / "staged.txt").write_text("v3, after staging v2\n", encoding="utf-8")
    (repo / "staged new.txt").write_text("added to the index only\n", encoding="utf-8")
    git(repo, "add", "staged new.txt")
    (repo / "crlf.txt").write_bytes(b"a\r\nc\r\n")
    (repo / "no newline.txt").write_bytes(b"y")
    (repo / "new file ü.txt").write_text("untracked text\n", encoding="utf-8")
    (repo / "new.bin").write_bytes(bytes(range(256)))
    (repo / "empty.txt").write_bytes(b"")
    (repo / "nested" / "deeper").mkdir(parents=True)
    (repo / "nested" / "deeper" / "x.py").write_text("x = 1\n", encoding="utf-8")
    if POSIX:
        (repo / "run.sh").write_text("#!/bin/sh\n", encoding="utf-8")
        (repo / "run.sh").chmod(0o755)
        (repo / "link").unlink()
        (repo / "link").symlink_to("train.py")
        (repo / "new link").symlink_to("nested/deeper/x.py")

    snapshot = capture_git(repo)

    assert snapshot is not None
    assert snapshot.dirty
    assert snapshot.commit == git(repo, "rev-parse", "HEAD").strip()
    assert snapshot.skipped_untracked == ()
    checkout = checkout_and_apply(repo, snapshot, tmp_path / "checkout")
    assert tree_state(checkout) == tree_state(repo)


def test_user_config_cannot_spoil_the_patch(git_repo: Path, tmp_path: Path) -> None:
    (git_repo / "blank lines.txt").write_text("a\n\n\nb\n\n\nc\n", encoding="utf-8")
    commit_all(git_repo, "blank lines")
    for key, value in [
        ("diff.noprefix", "true"),
        ("diff.mnemonicPrefix", "true"),
        ("diff.suppressBlankEmpty", "true"),
        ("diff.submodule", "log"),
        ("diff.external", "false"),
        ("diff.renames", "copies"),
        ("color.ui", "always"),
        ("core.pager", "false"),
        ("status.showUntrackedFiles", "no"),
        ("status.renames", "copies"),
    ]:
        git(git_repo, "config", key, value)
    (git_repo / "blank lines.txt").write_text("a\n\n\nB\n\n\nc\n", encoding="utf-8")
    (git_repo / "untracked.txt").write_text("still captured\n", encoding="utf-8")

    snapshot = capture_git(git_repo)

    assert snapshot is not None and snapshot.dirty
    checkout = checkout_and_apply(git_repo, snapshot, tmp_path / "checkout")
    assert tree_state(checkout) == tree_state(git_repo)


def test_capture_leaves_index_and_objects_untouched(git_repo: Path) -> None:
    (git_repo / "train.py").write_text("print('changed')\n", encoding="utf-8")
    git(git_repo, "add", "train.py")
    (git_repo / "train.py").write_text("print('changed again')\n", encoding="utf-8")
    (git_repo / "untracked.txt").write_text("new\n", encoding="utf-8")
    index = git_repo / ".git" / "index"

    def observe() -> tuple[str, bytes, int, list[str]]:
        status = git(git_repo, "--no-optional-locks", "status", "--porcelain=v2")
        objects = sorted(str(p) for p in (git_repo / ".git" / "objects").rglob("*"))
        return status, index.read_bytes(), index.stat().st_mtime_ns, objects

    before = observe()
    snapshot = capture_git(git_repo)
    assert snapshot is not None and "untracked.txt" in snapshot.patch
    assert observe() == before


def test_excluded_store_is_neither_dirty_nor_patched(git_repo: Path, tmp_path: Path) -> None:
    store = git_repo / "runs"
    (store / "kept").mkdir(parents=True)
    (store / "kept" / "README").write_text("tracked file in the store\n", encoding="utf-8")
    commit_all(git_repo, "store readme")
    (store / "kept" / "README").write_text("edited while training\n", encoding="utf-8")
    (store / "exp" / "run 1").mkdir(parents=True)
    (store / "exp" / "run 1" / "metrics.csv").write_text("step,loss\n0,1.0\n", encoding="utf-8")
    exclude = [store, tmp_path / "outside the repo", git_repo / "does-not-exist", git_repo]

    clean = capture_git(git_repo, exclude=exclude)
    assert clean is not None
    assert (clean.dirty, clean.patch) == (False, "")

    (git_repo / "train.py").write_text("print('tuned')\n", encoding="utf-8")
    dirty = capture_git(git_repo, exclude=exclude)
    assert dirty is not None and dirty.dirty
    assert "train.py" in dirty.patch
    assert "runs/" not in dirty.patch


@pytest.mark.parametrize("store_name", ["runs", "odd [store]*?"])
def test_store_subfolders_are_excluded_but_its_root_files_count(
    git_repo: Path, store_name: str
) -> None:
    store = git_repo / store_name
    (store / "exp" / "run-1").mkdir(parents=True)
    (store / "exp" / "run-1" / "run.yaml").write_text("status: RUNNING\n", encoding="utf-8")
    (store / "exp" / "experiment.yaml").write_text("name: exp\n", encoding="utf-8")
    (git_repo / "sibling").mkdir()
    (git_repo / "sibling" / "data.txt").write_text("not in the store\n", encoding="utf-8")
    commit_all(git_repo, "sibling folder")

    clean = capture_git(git_repo, exclude_subfolders_of=[store])
    assert clean is not None
    assert (clean.dirty, clean.patch) == (False, "")

    (store / "train.py").write_text("print('fills the store')\n", encoding="utf-8")
    (git_repo / "sibling" / "data.txt").write_text("edited\n", encoding="utf-8")
    dirty = capture_git(git_repo, exclude_subfolders_of=[store])
    assert dirty is not None and dirty.dirty
    assert f"{store_name}/train.py" in dirty.patch
    assert "sibling/data.txt" in dirty.patch
    assert "run.yaml" not in dirty.patch and "experiment.yaml" not in dirty.patch


def test_untracked_file_over_size_limit_is_skipped(git_repo: Path) -> None:
    (git_repo / "big.bin").write_bytes(b"x" * 101)
    (git_repo / "small.txt").write_bytes(b"y" * 100)

    snapshot = capture_git(git_repo, max_untracked_bytes=100)

    assert snapshot is not None and snapshot.dirty
    assert snapshot.skipped_untracked == ("big.bin",)
    assert "small.txt" in snapshot.patch
    assert "big.bin" not in snapshot.patch


def test_only_an_oversized_untracked_file_is_dirty_with_empty_patch(git_repo: Path) -> None:
    (git_repo / "checkpoint.pt").write_bytes(b"\0" * 2048)

    snapshot = capture_git(git_repo, max_untracked_bytes=1024)

    assert snapshot is not None
    assert (snapshot.dirty, snapshot.patch, snapshot.skipped_untracked) == (
        True,
        "",
        ("checkpoint.pt",),
    )


def test_nested_untracked_repository_is_skipped(git_repo: Path) -> None:
    inner = git_repo / "vendor" / "inner"
    inner.mkdir(parents=True)
    git(inner, "init", "--quiet")
    (inner / "code.py").write_text("pass\n", encoding="utf-8")

    snapshot = capture_git(git_repo)

    assert snapshot is not None
    assert (snapshot.dirty, snapshot.patch) == (True, "")
    assert snapshot.skipped_untracked == ("vendor/inner/",)


def test_ignored_files_are_left_out(git_repo: Path) -> None:
    (git_repo / ".gitignore").write_text("*.log\ncache/\n", encoding="utf-8")
    commit_all(git_repo, "ignore logs")
    (git_repo / "train.log").write_text("epoch 1\n", encoding="utf-8")
    (git_repo / "cache").mkdir()
    (git_repo / "cache" / "blob").write_bytes(b"\0" * 10)

    assert capture_git(git_repo) == capture_git(git_repo, exclude=[git_repo / "cache"])
    clean = capture_git(git_repo)
    assert clean is not None and not clean.dirty

    (git_repo / "notes.txt").write_text("kept\n", encoding="utf-8")
    dirty = capture_git(git_repo)
    assert dirty is not None and "notes.txt" in dirty.patch
    assert "train.log" not in dirty.patch
    assert "cache/" not in dirty.patch


def test_unborn_head_patch_recreates_files_from_nothing(tmp_path: Path) -> None:
    repo = tmp_path / "fresh"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    (repo / "a.txt").write_text("first file\n", encoding="utf-8")
    (repo / "sub").mkdir()
    (repo / "sub" / "b.bin").write_bytes(bytes(range(256)))
    (repo / "staged.txt").write_text("staged before any commit\n", encoding="utf-8")
    git(repo, "add", "staged.txt")

    snapshot = capture_git(repo / "sub")

    assert snapshot is not None
    assert (snapshot.commit, snapshot.branch, snapshot.dirty) == (None, "main", True)
    target = tmp_path / "from-nothing"
    target.mkdir()
    apply_patch(snapshot, target)
    assert tree_state(target) == tree_state(repo)


def test_detached_head_has_no_branch(git_repo: Path) -> None:
    git(git_repo, "checkout", "--quiet", "--detach")

    snapshot = capture_git(git_repo)

    assert snapshot is not None
    assert snapshot.branch is None
    assert snapshot.commit == git(git_repo, "rev-parse", "HEAD").strip()


def test_merge_conflict_is_captured_as_the_files_on_disk(git_repo: Path, tmp_path: Path) -> None:
    git(git_repo, "checkout", "--quiet", "-b", "other")
    (git_repo / "train.py").write_text("print('other')\n", encoding="utf-8")
    commit_all(git_repo, "other")
    git(git_repo, "checkout", "--quiet", "main")
    (git_repo / "train.py").write_text("print('main')\n", encoding="utf-8")
    commit_all(git_repo, "main")
    merge = subprocess.run(["git", "merge", "other"], cwd=git_repo, capture_output=True)
    assert merge.returncode != 0

    snapshot = capture_git(git_repo)

    assert snapshot is not None and snapshot.dirty
    checkout = checkout_and_apply(git_repo, snapshot, tmp_path / "checkout")
    assert tree_state(checkout) == tree_state(git_repo)


def test_non_utf8_text_file_round_trips(git_repo: Path, tmp_path: Path) -> None:
    (git_repo / "latin1.csv").write_bytes("name\ncafé\n".encode("latin-1"))
    commit_all(git_repo, "latin-1 data")
    (git_repo / "latin1.csv").write_bytes("name\ncafé\ncrème\n".encode("latin-1"))

    snapshot = capture_git(git_repo)

    assert snapshot is not None
    snapshot.patch.encode("utf-8")  # plain UTF-8: any writer can store it
    checkout = checkout_and_apply(git_repo, snapshot, tmp_path / "checkout")
    assert tree_state(checkout) == tree_state(git_repo)


def test_remote_url_prefers_origin_and_strips_credentials(git_repo: Path) -> None:
    git(git_repo, "remote", "add", "upstream", "https://ghp_secret@example.com/up/r.git")
    first = capture_git(git_repo)
    assert first is not None and first.remote_url == "https://example.com/up/r.git"

    git(git_repo, "remote", "add", "origin", "https://user:tok3n@github.com/o/r.git")
    second = capture_git(git_repo)
    assert second is not None and second.remote_url == "https://github.com/o/r.git"


def test_worktree_is_its_own_root(git_repo: Path, tmp_path: Path) -> None:
    worktree = tmp_path / "wt"
    git(git_repo, "worktree", "add", "--quiet", "-b", "feature", str(worktree))
    (worktree / "sub").mkdir()
    (worktree / "sub" / "new.txt").write_text("only in the worktree\n", encoding="utf-8")

    assert (worktree / ".git").is_file()
    assert find_repo_root(worktree / "sub") == worktree.resolve()
    snapshot = capture_git(worktree / "sub")
    assert snapshot is not None
    assert (snapshot.root, snapshot.branch, snapshot.dirty) == (worktree.resolve(), "feature", True)
    assert "sub/new.txt" in snapshot.patch
    main = capture_git(git_repo)
    assert main is not None and not main.dirty


def test_find_repo_root_walks_up(git_repo: Path) -> None:
    nested = git_repo / "a" / "b c" / "d"
    nested.mkdir(parents=True)

    assert find_repo_root(nested) == git_repo.resolve()
    assert find_repo_root(git_repo / "train.py") == git_repo.resolve()
    assert find_repo_root(nested / "not yet created.txt") == git_repo.resolve()
    snapshot = capture_git(nested)
    assert snapshot is not None and snapshot.root == git_repo.resolve()


def test_outside_any_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()

    assert find_repo_root(plain) is None
    assert capture_git(plain) is None


def test_inside_the_git_directory_is_not_a_work_tree(git_repo: Path) -> None:
    assert capture_git(git_repo / ".git" / "objects") is None


def test_corrupt_repository_raises_git_error(git_repo: Path) -> None:
    (git_repo / ".git" / "refs" / "heads" / "main").write_text("1" * 40 + "\n", "ascii")

    with pytest.raises(GitError, match=r"git status failed in .*bad object HEAD"):
        capture_git(git_repo)


@pytest.mark.skipif(getattr(os, "geteuid", lambda: -1)() != 0, reason="needs root to chown")
def test_repository_of_another_user_raises_git_error_naming_the_fix(tmp_path: Path) -> None:
    repo = tmp_path / "theirs"
    repo.mkdir()
    git(repo, "init", "--quiet")
    for path in (repo, *repo.rglob("*")):
        os.lchown(path, 65534, 65534)

    with pytest.raises(GitError, match=r"safe\.directory"):
        capture_git(repo)


@pytest.mark.skipif(not POSIX, reason="timeouts are not enforced on Windows")
def test_hanging_git_is_killed_and_reported(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = tmp_path / "hanging-fsmonitor"
    hook.write_text("#!/bin/sh\nsleep 30\n", encoding="utf-8")
    hook.chmod(0o755)
    git(git_repo, "config", "core.fsmonitor", str(hook))
    monkeypatch.setattr(gitrunner, "GIT_TIMEOUT_S", 0.5)

    with pytest.raises(GitTimeoutError, match="did not complete"):
        capture_git(git_repo)


def test_missing_git_executable_gives_none(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))

    assert capture_git(git_repo) is None


def test_missing_git_executable_in_a_fresh_process_gives_none(git_repo: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from runfolio.gitrepo import capture_git; "
        "assert capture_git(Path(sys.argv[1])) is None"
    )
    env = dict(os.environ)
    env["PATH"] = str(git_repo / "no-bin-here")
    subprocess.run([sys.executable, "-c", code, str(git_repo)], env=env, check=True)


def test_importing_and_capturing_outside_a_repo_does_not_load_gitpython(tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path; import runfolio.gitrepo as g; "
        "assert g.capture_git(Path(sys.argv[1])) is None; "
        "assert 'git' not in sys.modules, 'gitpython was imported'"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:token@github.com/o/r.git", "https://github.com/o/r.git"),
        ("https://ghp_abc123@github.com/o/r.git", "https://github.com/o/r.git"),
        ("https://x-access-token:p@ss:w@rd@host:8443/r", "https://host:8443/r"),
        ("http://u:p@[::1]:8080/r.git", "http://[::1]:8080/r.git"),
        ("ftp://anon:pw@ftp.example.com/r", "ftp://ftp.example.com/r"),
        ("HTTPS://u:p@Example.com/r", "HTTPS://Example.com/r"),
        ("https://github.com/o/r.git", "https://github.com/o/r.git"),
        ("ssh://git@github.com/o/r.git", "ssh://git@github.com/o/r.git"),
        ("ssh://git:hunter2@host:2222/r.git", "ssh://git@host:2222/r.git"),
        ("git+ssh://me:pw@host/r", "git+ssh://me@host/r"),
        ("git@github.com:o/r.git", "git@github.com:o/r.git"),
        (
            "https://host/r.git?access_token=abc&ref=main&X-Amz-Signature=s#frag",
            "https://host/r.git?ref=main#frag",
        ),
        ("https://host/r?api_key=1&private-token=2&Password=3&auth=4", "https://host/r"),
        ("https://host/r?ref=main", "https://host/r?ref=main"),
        ("/home/me/repos/r.git", "/home/me/repos/r.git"),
        ("../r.git", "../r.git"),
        ("C:\\repos\\r.git", "C:\\repos\\r.git"),
        ("file:///srv/git/r.git", "file:///srv/git/r.git"),
    ],
)
def test_strip_credentials(url: str, expected: str) -> None:
    assert strip_credentials(url) == expected


@given(
    user=st.text("abcdefghijklmnopqrstuvwxyz0123456789-._~%!$&'()*+,;=:@"),
    password=st.text("abcdefghijklmnopqrstuvwxyz0123456789-._~%!$&'()*+,;=:@"),
)
def test_strip_credentials_never_keeps_http_userinfo(user: str, password: str) -> None:
    url = f"https://{user}:{password}@github.com/o/r.git"
    assert strip_credentials(url) == "https://github.com/o/r.git"


def test_a_same_size_edit_in_the_index_s_last_second_is_captured(git_repo: Path) -> None:
    """git trusts an entry's stat data only when the file is older than the index.

    The edit below keeps the size and mtime git cached (ctime is not trusted here, as on
    filesystems where it cannot be), and the index is stamped that same instant: only
    git's racy-clean rule tells the edit apart, and a capture working on a copy of the
    index must keep that rule (a copy stamped "now" lost such edits under load in CI).
    """
    git(git_repo, "config", "core.trustctime", "false")
    target = git_repo / "train.py"
    cached = (target.stat().st_mtime_ns - 100 * 10**9,) * 2
    os.utime(target, ns=cached)
    git(git_repo, "update-index", "--refresh")  # the index caches that (old) mtime, unsmudged
    target.write_text(target.read_text(encoding="utf-8").replace("training", "TRAINING"))
    os.utime(target, ns=cached)
    os.utime(git_repo / ".git" / "index", ns=cached)

    snapshot = capture_git(git_repo)

    assert snapshot is not None
    assert snapshot.dirty
    assert "+print('TRAINING')" in snapshot.patch
