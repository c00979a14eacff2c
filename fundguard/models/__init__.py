"""大数据反欺诈: indicators against peers, scenario models, gang detection, ranked and explained leads.

Beside the engine: reads the store (DuckDB over its Parquet), writes ``<ws>/leads/run=<id>/``. Modules:
``indicators`` (the indicator library: Chinese name, formula, unit, direction; SQL per entity × month),
``peers`` (peer groups, median/MAD robust scores), ``scenarios`` (the scenario models), ``gangs`` (groups
over person–institution–date with networkx), ``run`` (the model run, ranking, Excel, ``lead_rows``),
``cards`` (model cards), ``evaluate`` (where the synthetic city's schemes rank), ``supervised`` (gradient
boosting with entity-grouped cross-validation) and ``kaggle`` (the same machinery over the Kaggle
provider-fraud tables).
May import: ``fundguard.core``, ``fundguard.data``, ``fundguard.kb``, ``fundguard.rules`` (the base view's
constants).
"""

from fundguard.models.cards import CARDS
from fundguard.models.run import ModelRun, lead_rows, run_models

__all__ = ["CARDS", "ModelRun", "lead_rows", "run_models"]
