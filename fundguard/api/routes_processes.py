"""The supervision processes as the workflow engine defines them: states with Chinese names, transitions, who
may take them and their form fields. The workbench reads state names and labels from here, never its own copy."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from fundguard.service.schemas import Process
from fundguard.supervision.workflow import MACHINES

from .deps import CtxDep

router = APIRouter(prefix="/api", tags=["流程 processes"])


@router.get(
    "/processes",
    summary="流程定义 / the supervision processes (states, transitions, forms)",
    response_model=dict[str, Process],
)
def processes(ctx: CtxDep) -> dict[str, Any]:
    with ctx.session():  # logged-in users only
        return {name: machine.as_dict() for name, machine in MACHINES.items()}
