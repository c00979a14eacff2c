"""The audit engine: one rule definition → DuckDB batch (事后) and one-claim real time (事前/事中); Spark later.

``batch.run_batch(workspace, ruleset)`` runs every enabled rule over the store and writes the hits
(``rules.base.HIT_COLUMNS``) with a run record; ``realtime.RealtimeAuditor`` runs the same rule SQL over one
claim plus the patient's history and returns the same hits (equality is tested). May import ``core``,
``data`` (schema, store), ``kb`` and ``rules``; knows nothing of the web or the supervision workflow.
"""

from fundguard.engine.batch import BatchResult, run_batch
from fundguard.engine.realtime import RealtimeAuditor

__all__ = ["BatchResult", "RealtimeAuditor", "run_batch"]
