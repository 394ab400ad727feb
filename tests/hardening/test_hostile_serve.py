"""``runfolio serve`` against a web page the user visits elsewhere (DNS rebinding).

Such a page re-points its own host name at 127.0.0.1 and then reads the preview as its
own origin: the server must answer only to its own address. Real HTTP requests, with
the ``Host`` header forged as a rebinding browser would send it.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from runfolio import Store
from runfolio.site.serve import LiveSite


class _Quiet:
    def __call__(self, message: str, err: bool = False) -> None:
        """Drop the server's messages."""


@dataclass(frozen=True)
class Served:
    """The served site: its folder, its port and its one run."""

    output: Path
    port: int
    run_id: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A one-run site served on a free port, with a dot-named artifact in the run."""
    root = tmp_path_factory.mktemp("serve")
    store = Store(root / "runs")
    with store.start_run("sweep", run_name="only") as run:
        run.log_metric("loss", 0.5)
        run.log_text("lr: 0.1\n", ".hydra/config.yaml")
    with LiveSite(store.root, root / "site", port=0, watch=False, echo=_Quiet()) as live:
        port = int(live.url.rsplit(":", 1)[1].strip("/"))
        yield Served(root / "site", port, run.run_id)


def _get(site: Served, path: str, host: str | None) -> http.client.HTTPResponse:
    """GET ``path`` with ``Host: host`` (no Host header at all when None)."""
    connection = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
    connection.putrequest("GET", path, skip_host=True)
    if host is not None:
        connection.putheader("Host", host)
    connection.endheaders()
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "LOCALHOST"])
def test_the_server_answers_to_its_own_address(site: Served, name: str) -> None:
    response = _get(site, "/index.html", f"{name}:{site.port}")
    assert response.status == 200
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    policy = response.getheader("Content-Security-Policy") or ""
    assert policy.startswith("default-src 'none'; script-src 'self'")
    html = (site.output / "index.html").read_text(encoding="utf-8")
    assert f'content="{policy}"' in html, "the header is the policy the pages declare"


@pytest.mark.parametrize(
    "host",
    [
        "attacker.example",
        "attacker.example:{port}",
        "127.0.0.1.attacker.example:{port}",
        "localhost.attacker.example:{port}",
        "127.0.0.1:1",
        "127.0.0.1",
        "localhost",
        "[::1]:{port}",
        "0.0.0.0:{port}",
    ],
)
def test_a_rebound_host_name_is_refused(site: Served, host: str) -> None:
    response = _get(site, "/index.html", host.format(port=site.port))
    assert response.status == 421


def test_a_request_without_host_is_refused(site: Served) -> None:
    assert _get(site, "/index.html", None).status == 400


@pytest.mark.parametrize("path", ["/.runfolio-site.json", "/.nojekyll", "/%2Enojekyll"])
def test_the_sites_own_dotfiles_are_not_served(site: Served, path: str) -> None:
    assert (site.output / "index.html").exists()
    assert _get(site, path, f"127.0.0.1:{site.port}").status == 404


def test_a_dot_folder_planted_in_the_site_folder_is_not_served(site: Served) -> None:
    # A site built into a GitHub Pages worktree holds its .git folder.
    for folder in (site.output, site.output / "experiments/sweep"):
        (folder / ".git").mkdir(exist_ok=True)
        (folder / ".git/config").write_text("[remote]\n", encoding="utf-8")
    host = f"127.0.0.1:{site.port}"
    for path in ("/.git/config", "//.git/config", "/%2egit/config", "/x/../.git/config"):
        assert _get(site, path, host).status == 404, path
    assert _get(site, "/experiments/sweep/.git/config", host).status == 404
    escape = f"/experiments/sweep/runs/{site.run_id}/../../.git/config"
    assert _get(site, escape, host).status == 404


def test_a_runs_own_dot_named_artifact_is_still_served(site: Served) -> None:
    path = f"/experiments/sweep/runs/{site.run_id}/artifacts/.hydra/config.yaml"
    assert (site.output / path.lstrip("/")).is_file()
    assert _get(site, path, f"localhost:{site.port}").status == 200
