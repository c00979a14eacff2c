"""The two routes every supervision process has, written once: ``GET <path>/{id}`` (the item with the actions
its reader may take now) and ``POST <path>/{id}/actions`` (one transition through the workflow engine, with
the fields its form declares). A concept's routes module calls ``process_routes`` and adds only what is its
own (lists, documents, uploads).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session

from .deps import CtxDep

IdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]

# the names the service calls take themselves: an action field of that name would collide there (a 500)
RESERVED_FIELDS = frozenset({"session", "actor", "clue_id", "case_id", "referral_id", "transfer_id",
                             "flight_id", "record_id", "report_id", "reward_id", "disclosure_id", "campaign_id", "return_id", "fields",
                             "action",
                             "version"})  # fmt: skip


class ActionIn(BaseModel):
    """A process action; any further fields the action needs (see ``actions[].fields``) go alongside."""

    model_config = ConfigDict(extra="allow")
    action: str = Field(min_length=1, max_length=64)
    version: int = Field(ge=1, le=2**31 - 1)
    comment: str = Field(default="", max_length=4000)

    @model_validator(mode="after")
    def _no_reserved_fields(self) -> ActionIn:
        clash = sorted(set(self.model_extra or {}) & RESERVED_FIELDS)
        if clash:
            raise ValueError(f"字段名不可用 reserved field names: {', '.join(clash)}")
        return self

    def fields(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


Getter = Callable[[Session, Any, int], dict[str, Any]]
Actor = Callable[..., dict[str, Any]]  # (session, actor, id, action, version, comment=…, **fields)


def process_routes(router: APIRouter, path: str, *, what: tuple[str, str], model: type, get: Getter,
                   act: Actor, read_log: str | None = None, act_summary: str | None = None) -> None:  # fmt: skip
    """Add the detail and action routes of one process at ``path``, which names its id (``/cases/{case_id}``).
    ``what`` names the item (``("案件", "case")``); ``read_log`` writes an access-log line on each read (items
    with personal data)."""
    zh, en = what
    id_name = re.fullmatch(r".*/\{(\w+)\}", path)[1]  # type: ignore[index]

    def detail(ctx: CtxDep, **ids: int) -> dict[str, Any]:
        with ctx.session() as (s, actor):
            if read_log:
                ctx.log(s, actor.username, read_log, f"{en}:{ids[id_name]}")
            return get(s, actor, ids[id_name])

    def action(body: ActionIn, ctx: CtxDep, **ids: int) -> dict[str, Any]:
        with ctx.session() as (s, actor):
            return act(
                s, actor, ids[id_name], body.action, body.version, comment=body.comment, **body.fields()
            )

    # FastAPI reads the parameters from the signature: the id keeps its own name in the API (``case_id``)
    item = inspect.Parameter(id_name, inspect.Parameter.KEYWORD_ONLY, annotation=IdPath)
    context = inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=CtxDep)
    body = inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY, annotation=ActionIn)
    detail.__signature__ = inspect.Signature([item, context])  # type: ignore[attr-defined]
    action.__signature__ = inspect.Signature([item, body, context])  # type: ignore[attr-defined]
    slug = en.replace(" ", "_")
    detail.__name__, action.__name__ = f"get_{slug}", f"act_on_{slug}"
    router.get(path, summary=f"{zh}详情 / {en} detail", response_model=model)(detail)
    router.post(f"{path}/actions", summary=act_summary or f"{zh}办理 / act on a {en}",
                response_model=model)(action)  # fmt: skip
