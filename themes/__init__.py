"""Site themes shipped with runfolio: templates and static files (data, not code).

This file only makes the folder importable as ``runfolio.themes`` so that
``importlib.resources`` finds the themes in any kind of install.
"""
