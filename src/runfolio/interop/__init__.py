"""Moving runs between runfolio and other trackers: MLflow (both ways) and DVCLive (in).

Every importer writes the store format itself (:mod:`.store_writer`), with ids derived
from the source so a second import finds the runs of the first and adds only what is
new. MLflow is an optional extra (``pip install 'runfolio[mlflow]'``), imported inside
the functions that talk to it; nothing here is loaded by ``import runfolio``.
"""
