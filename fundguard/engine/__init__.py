"""The audit engine: one rule definition → DuckDB batch (事后), Spark (scale-out) and one-claim real time (事前/事中).

``batch.run_batch(workspace, ruleset)`` runs every enabled rule over the store and writes the hits
(``rules.base.HIT_COLUMNS``) with a run record; ``spark.run_spark`` runs the same rule SQL, transpiled by
sqlglot, on PySpark with the same hits and record; ``realtime.RealtimeAuditor`` evaluates the rules' compiled
plans over one claim plus the patient's history in memory (``claim_input`` validates claims,
``realtime_sql`` is the old per-claim SQL path, ``payload3101`` reads and answers 3101-style messages); ``examples`` runs the rules'
positive and negative examples; ``backtest`` compares a rule change on stored data. Equality of the engines is
tested. May import ``core``, ``data`` (schema, store), ``kb`` and ``rules``; knows nothing of the web or the
supervision workflow.
"""

from fundguard.engine.batch import BatchResult, run_batch
from fundguard.engine.realtime import RealtimeAuditor

__all__ = ["BatchResult", "RealtimeAuditor", "run_batch"]
