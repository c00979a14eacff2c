"""The audit engine: one rule definition → DuckDB batch (事后) now; real time (事前/事中) and Spark later.

``batch.run_batch(workspace, ruleset)`` runs every enabled rule over the store and writes the hits
(``rules.base.HIT_COLUMNS``) with a run record. May import ``core``, ``data`` (schema, store), ``kb`` and
``rules``; knows nothing of the web or the supervision workflow.
"""

from fundguard.engine.batch import BatchResult, run_batch

__all__ = ["BatchResult", "run_batch"]
