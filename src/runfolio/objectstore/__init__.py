"""Artifacts kept in an S3-compatible bucket instead of the git repository.

A run's large artifacts are uploaded under content-addressed keys and named in the run's
``artifacts.remote.yaml`` manifest (see docs/object-storage.md); small ones stay plain
files in ``artifacts/``. ``settings`` reads the ``artifacts`` key of ``runfolio.yaml``,
``manifest`` the manifest, ``bucket`` talks to the bucket (through s3fs, imported only
when a transfer happens), ``cache`` keeps fetched objects by hash, and ``transfer``
uploads, pulls and fetches.

Nothing here is imported by ``import runfolio``: s3fs, fsspec and botocore load only
when a run actually sends or fetches an object.
"""
