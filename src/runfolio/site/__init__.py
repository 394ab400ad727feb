"""The static site: config → model → charts → render → write, one module each.

Nothing here is imported by ``runfolio`` itself; the builder is loaded on demand by
``runfolio build`` so that the tracking API stays light.
"""
