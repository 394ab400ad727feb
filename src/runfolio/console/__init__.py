"""Terminal text views of a run store: what the ``runfolio`` commands print.

Every ``render_*`` function takes plain data (records, scans, run details, diffs) and
returns a string; none reads the store or talks to click, so tests and other front ends
can call them directly. Standard library only at import time.
"""
