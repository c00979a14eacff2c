"""Response models of the leads routes."""

from __future__ import annotations

from fundguard.service.schemas import Model


class LeadModel(Model):
    """One model's lead on the entity: its score, reasons (Chinese, with the value and the peer median)."""

    model: str
    model_name: str
    score: float
    reasons: list[str]
    money: float
    peer_group: str
    visits: list[str]


class LeadItem(Model):
    key: str
    """Opaque handle of the lead in its run (the entity's own id may be a person's, masked for some roles)."""
    entity_type: str
    entity_type_zh: str
    entity_id: str
    entity_name: str
    rank: int
    score: float
    models: list[str]
    reasons: list[str]
    money: float
    institutions: list[str]
    institution_names: list[str]
    clue_id: int | None
    clue_status: str | None


class LeadPage(Model):
    run_id: str | None
    counts: dict[str, int]
    """Visible leads per entity type."""
    items: list[LeadItem]
    total: int
    page: int
    size: int


class PeerIndicator(Model):
    indicator: str
    name_zh: str
    unit: str
    peer_group: str
    value: float | None
    z: float | None
    n: int | None
    p10: float | None
    p25: float | None
    p50: float | None
    p75: float | None
    p90: float | None


class GraphNode(Model):
    id: str
    name: str
    kind: str
    """person / institution"""


class GraphLink(Model):
    source: str
    target: str
    kind: str
    weight: int
    times: int


class LeadDetail(LeadItem):
    run_id: str
    leads: list[LeadModel]
    peers: list[PeerIndicator]
    nodes: list[GraphNode]
    links: list[GraphLink]
