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
