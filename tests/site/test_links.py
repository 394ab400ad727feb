"""Git remotes become web links only for known hosts, and only as built https URLs."""

from __future__ import annotations

import pytest

from runfolio.site.links import RepositoryWeb, repository_web

SHA = "4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c"


@pytest.mark.parametrize(
    ("remote", "base", "flavor"),
    [
        ("git@github.com:org/repo.git", "https://github.com/org/repo", "github"),
        ("https://github.com/org/repo.git", "https://github.com/org/repo", "github"),
        ("https://github.com/org/repo", "https://github.com/org/repo", "github"),
        ("ssh://git@github.com/org/repo.git", "https://github.com/org/repo", "github"),
        ("git@gitlab.com:group/sub/repo.git", "https://gitlab.com/group/sub/repo", "gitlab"),
        ("https://gitlab.example.org/team/repo", "https://gitlab.example.org/team/repo", "gitlab"),
        ("HTTPS://GitHub.com/org/repo.git", "https://github.com/org/repo", "github"),
    ],
)
def test_known_hosts_give_their_web_ui(remote: str, base: str, flavor: str) -> None:
    assert repository_web(remote) == RepositoryWeb(base, flavor)


@pytest.mark.parametrize(
    "remote",
    [
        None,
        "",
        "/srv/git/repo.git",
        "file:///srv/git/repo.git",
        "https://bitbucket.org/org/repo.git",
        "https://github.com/org",
        "https://github.com/org/repo/extra",
        "javascript:alert(1)//github.com/org/repo",
        "https://github.com/org/re po",
        "https://github.com/org/<script>",
        "https://evilgithub.com/org/repo",
        "git@github.com:/abs/path",
    ],
)
def test_unknown_or_odd_remotes_give_no_link(remote: str | None) -> None:
    assert repository_web(remote) is None


def test_commit_file_and_tree_urls() -> None:
    github = RepositoryWeb("https://github.com/org/repo", "github")
    assert github.commit_url(SHA) == f"https://github.com/org/repo/commit/{SHA}"
    assert github.file_url(SHA, "src/train me.py") == (
        f"https://github.com/org/repo/blob/{SHA}/src/train%20me.py"
    )
    assert github.tree_url(SHA, "runs/exp") == f"https://github.com/org/repo/tree/{SHA}/runs/exp"
    gitlab = RepositoryWeb("https://gitlab.com/g/r", "gitlab")
    assert gitlab.commit_url(SHA) == f"https://gitlab.com/g/r/-/commit/{SHA}"
    assert gitlab.tree_url(SHA, "") == f"https://gitlab.com/g/r/-/tree/{SHA}"


@pytest.mark.parametrize("commit", ["", "main", "../../x", "javascript:alert(1)", "ZZZZZZZ"])
def test_only_commit_ids_make_links(commit: str) -> None:
    github = RepositoryWeb("https://github.com/org/repo", "github")
    assert github.commit_url(commit) is None
    assert github.file_url(commit, "train.py") is None


def test_interactive_or_absolute_entry_points_make_no_file_link() -> None:
    github = RepositoryWeb("https://github.com/org/repo", "github")
    assert github.file_url(SHA, "<interactive>") is None
    assert github.file_url(SHA, "/etc/passwd") is None
