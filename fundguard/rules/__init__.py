"""规则库 — rule templates (code) and rules (data: national and local YAML).

A rule is data: a template name, its parameters, a knowledge table and metadata (GZ code, 2025 class,
result type, scenes, stages, legal basis, effective dates, amount rule). ``spec.load_rules`` reads and
validates YAML files into a ``RuleSet``; each template compiles a rule to one DuckDB ``SELECT`` over the
base view ``claim_lines`` (``base.py``) and the knowledge tables ``kb_*`` (``knowledge.py``), yielding rows
of the fixed hit schema (``base.HIT_COLUMNS``). The same SQL runs over the store (事后 batch) and over a
one-claim in-memory DuckDB (事前/事中), so engines agree by construction.

May import: ``core``, ``data.schema``, ``kb``. Knows nothing of the store's files, the engine or the web.
"""

from fundguard.rules.spec import Rule, RuleSet, load_rules, national_rule_files, workspace_rule_files

__all__ = ["Rule", "RuleSet", "load_rules", "national_rule_files", "workspace_rule_files"]
