"""The on-disk contract: layout, run ids, atomic writes and tolerant readers.

Nothing in here imports other parts of runfolio except :mod:`runfolio.errors`.
"""

FORMAT_VERSION = 1
"""Version of the store format written by this release (see docs/store-format.md)."""
