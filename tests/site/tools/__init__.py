"""Checkers for built sites: HTML validation, links, accessibility, and a local server.

Plain modules for the tests (imported as ``tools.<module>``; ``tests/site/conftest.py``
puts ``tests/site`` on ``sys.path``). They know nothing of runfolio: they check any folder
of HTML files or any Playwright page.
"""
