"""规则库 — rule templates (code) and rules (data: national and local YAML).

A rule is data: a template name, its parameters, a knowledge table and metadata (GZ code, 2025 class,
result type, scenes, stages, legal basis, effective dates, amount rule). ``spec.load_rules`` reads and
validates YAML files into a ``RuleSet``; ``plan.plan(rule)`` is the engine-neutral description engines read
(what it reads, knowledge join and keys, history window, population, evidence). Each template gives a rule's
DuckDB ``SELECT`` over the base view ``claim_lines`` (``base.py``) and the knowledge tables ``kb_*``
(``knowledge.py``) for the set-based engines, and its in-memory evaluator over one ``claim.Claim`` for real
time, both yielding the fixed hit schema (``base.HIT_COLUMNS``) with evidence rendered from one template
(``evidence.py``); the tests prove they agree.

May import: ``core``, ``data.schema``, ``kb``. Knows nothing of the store's files, the engine or the web.
"""

from fundguard.rules.spec import Rule, RuleSet, load_rules, national_rule_files, workspace_rule_files

__all__ = ["Rule", "RuleSet", "load_rules", "national_rule_files", "workspace_rule_files"]
