"""Helpers shared by the object storage tests (fixtures live in conftest.py)."""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def s3fs_for(endpoint: str) -> Any:
    """A plain s3fs client of the test server, to look at and tamper with the bucket."""
    import s3fs

    return s3fs.S3FileSystem(
        endpoint_url=endpoint, skip_instance_cache=True, use_listings_cache=False
    )


@dataclass
class Project:
    """A project folder with a store and a ``runfolio.yaml`` pointing at a test bucket."""

    root: Path
    store: Path
    endpoint: str
    bucket: str
    prefix: str

    def configure(self, **settings: Any) -> None:
        """Write ``runfolio.yaml`` with these ``artifacts`` settings (and ``extra`` keys)."""
        import yaml

        extra = settings.pop("extra", {})
        artifacts = {
            "uri": f"s3://{self.bucket}/{self.prefix}",
            "endpoint_url": self.endpoint,
            "threshold": "1 KB",
            **settings,
        }
        data = {"store": "runs", "artifacts": artifacts, **extra}
        (self.root / "runfolio.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")

    def objects(self) -> list[str]:
        """Every object in the bucket, as ``bucket/key``, sorted."""
        return sorted(s3fs_for(self.endpoint).find(self.bucket))


def moto_auth(endpoint: str, count: str) -> None:
    """Make moto check signatures after ``count`` more requests (``inf``: never)."""
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=count.encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def big_file(folder: Path, name: str, size: int = 4000, seed: bytes = b"x") -> Path:
    """A file of ``size`` bytes (above the projects' 1 KB threshold by default)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes((seed * size)[:size])
    return path


def configure_store(root: Path, uri: str, **settings: Any) -> Path:
    """Write a runfolio.yaml sending files over 1 KB to ``uri``; return its store (runs/).

    The site previews files up to 1 MB.
    """
    import yaml

    artifacts = {"uri": uri, "threshold": "1 KB", **settings}
    data = {"store": "runs", "artifacts": artifacts, "artifact_size_limit": "1 MB"}
    (root / "runfolio.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return root / "runs"


def export_folder(folder: Path) -> Path:
    """Files to log: a CSV and a PNG small enough to preview, and a 3 MiB binary."""
    (folder / "tables").mkdir(parents=True)
    rows = "".join(f"{i},{i * i}\n" for i in range(300))
    (folder / "tables" / "scores.csv").write_text("step,score\n" + rows, encoding="utf-8")
    (folder / "plot.png").write_bytes(PNG + b"\0" * 2000)
    big_file(folder, "huge.bin", 3 * 2**20, b"h")
    return folder


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99"
    b"=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)
"""A 1x1 PNG image."""
