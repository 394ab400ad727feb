"""Artifacts kept in object storage (S3, GCS, Azure, a folder) instead of the git repository.

A run's large artifacts are uploaded under content-addressed keys and named in the run's
``artifacts.remote.yaml`` manifest (see docs/object-storage.md); small ones stay plain
files in ``artifacts/``. ``settings`` reads the ``artifacts`` key of ``runfolio.yaml``,
``manifest`` the manifest, ``filesystems`` picks the fsspec filesystem of the URI's
scheme, ``bucket`` talks to the bucket through it (imported only when a transfer
happens), ``cache`` keeps fetched objects by hash, and ``transfer`` uploads, pulls and
fetches.

Nothing here is imported by ``import runfolio``: fsspec and the storage clients (s3fs,
gcsfs, adlfs) load only when a run actually sends or fetches an object.
"""
