"""Run pages list remote artifacts, link them, preview small ones, and survive failures.

Sites are built from stores written through the tracking API against the moto server,
and the run page is read back with ``html_helpers``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from objectstore_helpers import Project, big_file, s3fs_for

import runfolio
from html_helpers import parse_file
from runfolio.objectstore.cache import objects_dir
from runfolio.objectstore.manifest import read_manifest
from runfolio.site.build import build_site

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99"
    b"=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


@dataclass
class Artifact:
    """What a run page shows of one artifact."""

    name: str = ""
    links: list[tuple[str, str]] = field(default_factory=list)  # (href, text)
    images: list[str] = field(default_factory=list)
    cells: list[str] = field(default_factory=list)
    text: str = ""


def _listed(page: Path) -> list[Artifact]:
    """The page's artifacts in page order (captured files left out)."""
    shown = []
    for article in parse_file(page).find("article", class_="artifact"):
        name = "".join(code.text for h3 in article.find("h3") for code in h3.find("code"))
        if not name.startswith("captured/"):
            shown.append(
                Artifact(
                    name=name,
                    links=[(a.attr("href"), a.text.strip()) for a in article.find("a")],
                    images=[img.attr("src") for img in article.find("img")],
                    cells=[td.text for td in article.find("td")],
                    text=article.text,
                )
            )
    return shown


def _artifacts(page: Path) -> dict[str, Artifact]:
    """The page's artifacts by name, in page order (captured files left out)."""
    return {a.name: a for a in _listed(page)}


def _page(site: Path, run: runfolio.Run) -> Path:
    return site / "experiments" / run.experiment.slug / "runs" / f"{run.run_id}.html"


def _store_with_remote_artifacts(project: Project, tmp_path: Path) -> runfolio.Run:
    """A run with remote files: a CSV and a PNG to preview, a large binary, and a local file."""
    folder = tmp_path / "export"
    rows = "".join(f"{i},<b>{i * i}</b>\n" for i in range(300))
    (folder / "tables").mkdir(parents=True)
    (folder / "tables" / "scores.csv").write_text("step,score\n" + rows, encoding="utf-8")
    (folder / "plot.png").write_bytes(PNG + b"\0" * 2000)
    big_file(folder, "huge.bin", 9000, b"h")
    big_file(folder, "readme.txt", 12, b"r")
    with runfolio.start_run() as run:
        runfolio.log_artifacts(str(folder))
    assert sorted(read_manifest(run.path)) == ["huge.bin", "plot.png", "tables/scores.csv"]
    return run


def test_a_run_page_lists_links_and_previews_remote_artifacts(
    project: Project, tmp_path: Path
) -> None:
    project.configure(
        public_url="https://cdn.example.org/ml",
        extra={"artifact_size_limit": "8 KB"},
    )
    run = _store_with_remote_artifacts(project, tmp_path)
    site = tmp_path / "site"
    report = build_site(project.store, site, config_root=project.root)
    assert report.problems == []
    shown = _artifacts(_page(site, run))
    assert list(shown) == ["huge.bin", "plot.png", "readme.txt", "tables/scores.csv"]
    entries = read_manifest(run.path)

    # Large: listed with its size and a link to the bucket's public address, not copied.
    huge = shown["huge.bin"]
    key = entries["huge.bin"].uri.removeprefix(f"s3://{project.bucket}/")
    assert huge.links == [(f"https://cdn.example.org/ml/{key}", "Download")]
    assert "9.0 KB" in huge.text and "Larger than the 8 kB limit, not previewed." in huge.text
    assert entries["huge.bin"].uri in huge.text
    assert not list(site.rglob("huge.bin*"))

    # Small: fetched, previewed and published like a local artifact, plus the bucket link.
    scores = shown["tables/scores.csv"]
    assert scores.cells[:4] == ["0", "<b>0</b>", "1", "<b>1</b>"]
    published = site / "experiments" / run.experiment.slug / "runs" / run.run_id / "artifacts"
    assert (published / "tables" / "scores.csv").read_bytes() == (
        tmp_path / "export" / "tables" / "scores.csv"
    ).read_bytes()
    assert [text for _, text in scores.links] == ["Download", "From the bucket"]
    image = shown["plot.png"]
    assert image.images == [f"{run.run_id}/artifacts/plot.png"]
    assert (published / "plot.png").read_bytes().startswith(PNG)

    # The local file is untouched by all this.
    assert shown["readme.txt"].links == [(f"{run.run_id}/artifacts/readme.txt", "Download")]


def test_public_links_are_escaped(project: Project, tmp_path: Path, bucket: str) -> None:
    project.prefix = "a b/ü?#"
    project.configure(public_url="https://cdn.example.org/root/")
    with runfolio.start_run() as run:
        runfolio.log_artifact(str(big_file(tmp_path, "w.bin", 3000)))
    entry = read_manifest(run.path)["w.bin"]
    assert entry.uri.startswith(f"s3://{bucket}/a b/ü?#/sha256/")
    site = tmp_path / "site"
    build_site(project.store, site, config_root=project.root)
    href = _artifacts(_page(site, run))["w.bin"].links[-1][0]
    assert href == (
        f"https://cdn.example.org/root/a%20b/%C3%BC%3F%23/sha256/{entry.sha256[:2]}/{entry.sha256}"
    )


def test_rebuilds_read_previews_from_the_cache(project: Project, tmp_path: Path) -> None:
    run = _store_with_remote_artifacts(project, tmp_path)
    site = tmp_path / "site"
    assert build_site(project.store, site, config_root=project.root).problems == []
    fs = s3fs_for(project.endpoint)
    for entry in read_manifest(run.path).values():
        fs.rm(entry.uri.removeprefix("s3://"))
    # A clean build renders every page again; the previews come from the cache.
    report = build_site(project.store, site, config_root=project.root, clean=True)
    assert report.problems == []
    assert _artifacts(_page(site, run))["tables/scores.csv"].cells[:2] == ["0", "<b>0</b>"]


def test_a_failed_fetch_is_a_problem_of_that_artifact_not_a_crash(
    project: Project, tmp_path: Path
) -> None:
    run = _store_with_remote_artifacts(project, tmp_path)
    entry = read_manifest(run.path)["tables/scores.csv"]
    s3fs_for(project.endpoint).rm(entry.uri.removeprefix("s3://"))
    site = tmp_path / "site"
    report = build_site(project.store, site, config_root=project.root)
    assert report.problems == [
        f"{run.path.relative_to(project.store).as_posix()}: artifacts/tables/scores.csv: "
        "cannot fetch it for its preview: "
        f"cannot download {entry.uri}: no such object at {project.endpoint}"
    ]
    shown = _artifacts(_page(site, run))
    assert "it could not be fetched" in shown["tables/scores.csv"].text
    assert shown["plot.png"].images  # the others are previewed as usual
    assert not list(site.rglob("scores.csv*"))
    with pytest.raises(Exception, match="--strict: 1 problem"):
        build_site(project.store, tmp_path / "strict", config_root=project.root, strict=True)


def test_a_tampered_object_is_never_published(project: Project, tmp_path: Path) -> None:
    run = _store_with_remote_artifacts(project, tmp_path)
    entry = read_manifest(run.path)["plot.png"]
    s3fs_for(project.endpoint).pipe_file(entry.uri.removeprefix("s3://"), b"<script>x</script>")
    site = tmp_path / "site"
    report = build_site(project.store, site, config_root=project.root)
    assert len(report.problems) == 1
    assert "plot.png: cannot fetch it for its preview" in report.problems[0]
    assert "does not hold the recorded file" in report.problems[0]
    assert not list(site.rglob("plot.png*"))
    assert not any(path.name == entry.sha256 for path in objects_dir().rglob("*"))


def test_only_the_configured_location_is_fetched(project: Project, tmp_path: Path) -> None:
    """A manifest (say, from a pull request) naming other objects publishes none of them."""
    secret = s3fs_for(project.endpoint)
    secret.pipe_file(f"{project.bucket}/private/report.csv", b"a,b\n1,2\n")
    run = _store_with_remote_artifacts(project, tmp_path)
    manifest = run.path / "artifacts.remote.yaml"
    entry = read_manifest(run.path)["tables/scores.csv"]
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace(
            entry.uri, f"s3://{project.bucket}/private/report.csv"
        ),
        encoding="utf-8",
    )
    site = tmp_path / "site"
    assert build_site(project.store, site, config_root=project.root).problems == []
    shown = _artifacts(_page(site, run))["tables/scores.csv"]
    assert "it is not stored under" in shown.text
    assert shown.cells == []
    assert not list(site.rglob("scores.csv*"))


def test_a_pulled_copy_is_listed_once(project: Project, tmp_path: Path) -> None:
    from runfolio.objectstore.transfer import pull_run

    run = _store_with_remote_artifacts(project, tmp_path)
    pull_run(run.path)
    site = tmp_path / "site"
    build_site(project.store, site, config_root=project.root)
    listed = _listed(_page(site, run))
    assert [a.name for a in listed] == ["huge.bin", "plot.png", "readme.txt", "tables/scores.csv"]
    assert "In object storage" in listed[0].text


def test_without_settings_remote_artifacts_are_listed_but_not_fetched(
    project: Project, tmp_path: Path
) -> None:
    run = _store_with_remote_artifacts(project, tmp_path)
    (project.root / "runfolio.yaml").unlink()
    shutil.rmtree(objects_dir(), ignore_errors=True)
    site = tmp_path / "site"
    assert build_site(project.store, site, config_root=project.root).problems == []
    shown = _artifacts(_page(site, run))
    assert "runfolio.yaml has no artifacts settings" in shown["plot.png"].text
    assert not shown["plot.png"].images
    assert not objects_dir().exists()
