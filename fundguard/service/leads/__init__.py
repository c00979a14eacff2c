"""The big-data models' leads (大数据模型线索) as the workbench reads them: ranked per entity type with their
reasons, and for one lead its peer comparison (the entity's indicators beside its peer group's quantiles) and,
for a group, the group graph. Reads the model run's files under ``<ws>/leads/run=<id>/``; scoped by region
through each lead's institutions; personal identifiers masked for masked roles. May import the shared
machinery of ``fundguard.service`` (``scope``, ``models``), never the other concepts."""

from __future__ import annotations

from fundguard.service.leads.outcomes import institution_labels, model_precision
from fundguard.service.leads.service import ENTITY_TYPES, lead_detail, list_leads

__all__ = ["ENTITY_TYPES", "institution_labels", "lead_detail", "list_leads", "model_precision"]
