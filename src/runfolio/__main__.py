"""``python -m runfolio``: the ``runfolio`` command, for environments without its script."""

from runfolio.cli import main

if __name__ == "__main__":
    main()
