"""Rules as data: ``Rule`` (one validated definition), ``RuleSet`` and ``load_rules`` (YAML files).

A file holds one rule mapping or a list of them. An entry with ``override: <rule id>`` instead of ``id``
changes an earlier rule (local tuning allowed by 医保发〔2023〕25号): ``params`` are merged, and ``scenes``,
``stages``, ``effective_from`` / ``effective_to``, ``severity``, ``suggested_handling``, ``result_type``
and ``enabled`` replaced. Files are read in the order given; overrides apply after all definitions.
Every error names the file, the rule and the field, in Chinese and English.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fundguard.core.errors import FundGuardError
from fundguard.rules import knowledge
from fundguard.rules.base import SCENES

RESULT_TYPES = ("可疑", "明确违规")
STAGES = ("事前", "事中", "事后")
SEVERITIES = ("low", "medium", "high")
AMOUNT_RULES = ("line_amount", "fund_amount", "excess_over_limit", "duplicate_line")
NATIONAL_DIR = Path(__file__).parent / "national"

_FIELDS = {
    "id", "name_zh", "template", "params", "knowledge", "class_2025", "result_type", "scenes", "stages",
    "legal_basis", "knowledge_source", "effective_from", "effective_to", "severity", "suggested_handling",
    "amount_rule", "version", "enabled", "description_zh",
}  # fmt: skip
_REQUIRED = ("id", "name_zh", "template", "result_type", "legal_basis", "amount_rule")
_OVERRIDABLE = {
    "params", "scenes", "stages", "effective_from", "effective_to", "severity", "suggested_handling",
    "result_type", "enabled",
}  # fmt: skip


class RuleError(FundGuardError):
    """A rule file, rule or field that cannot be used."""


@dataclass(frozen=True)
class Rule:
    """One validated rule (metadata plus template parameters)."""

    id: str
    name_zh: str
    template: str
    params: dict[str, Any]
    result_type: str
    legal_basis: str
    amount_rule: str
    knowledge: str | None = None
    class_2025: str = ""
    scenes: tuple[str, ...] = ("住院", "门急诊", "购药")
    stages: tuple[str, ...] = STAGES
    knowledge_source: str = ""
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    severity: str = "medium"
    suggested_handling: str = ""
    version: str = "1"
    enabled: bool = True
    description_zh: str = ""
    source_file: str = field(default="", compare=False)

    def sql(self) -> str:
        """The DuckDB SELECT yielding this rule's hits (see ``rules.base.HIT_COLUMNS``)."""
        from fundguard.rules.templates import TEMPLATES

        return TEMPLATES[self.template].sql(self)

    def normalised(self) -> dict:
        d = asdict(self)
        d.pop("source_file")
        return json.loads(json.dumps(d, ensure_ascii=False, sort_keys=True, default=str))


@dataclass(frozen=True)
class RuleSet:
    """Rules by id (enabled and disabled) and the version hash of their normalised definitions."""

    rules: dict[str, Rule]
    version: str
    files: tuple[str, ...] = ()

    def enabled(self) -> list[Rule]:
        return [r for r in self.rules.values() if r.enabled]

    def __len__(self) -> int:
        return len(self.rules)

    def __getitem__(self, rule_id: str) -> Rule:
        return self.rules[rule_id]

    def select(self, ids: list[str]) -> RuleSet:
        """Only the rules ``ids`` (unknown ids are an error)."""
        missing = [i for i in ids if i not in self.rules]
        if missing:
            raise RuleError(f"未知规则 {missing}", f"unknown rule ids {missing}")
        return _ruleset({i: self.rules[i] for i in ids}, self.files)


def national_rule_files() -> list[Path]:
    """The national rule files shipped with the package."""
    return sorted(NATIONAL_DIR.glob("*.yaml"))


def _err(file: str, rule: str, fld: str, zh: str, en: str) -> RuleError:
    return RuleError(
        f"{file}：规则 {rule or '?'} 字段 {fld}：{zh}", f"{file}: rule {rule or '?'} field {fld}: {en}"
    )


def _date(value: Any, file: str, rid: str, fld: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise _err(
            file, rid, fld, f"日期无效 {value!r}（应为 YYYY-MM-DD）", f"bad date {value!r} (want YYYY-MM-DD)"
        ) from exc


def _strings(value: Any, file: str, rid: str, fld: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _err(file, rid, fld, "应为字符串列表", "expected a list of strings")
    bad = [v for v in value if v not in allowed]
    if bad:
        raise _err(
            file,
            rid,
            fld,
            f"未知取值 {bad}，可选 {list(allowed)}",
            f"unknown values {bad}; allowed {list(allowed)}",
        )
    return tuple(value)


def _params(template, raw: Any, file: str, rid: str) -> dict[str, Any]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise _err(file, rid, "params", "应为映射", "expected a mapping")
    known = {p.name: p for p in template.params}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise _err(
            file, rid, f"params.{unknown[0]}",
            f"模板 {template.name} 无此参数（可用：{sorted(known)}）",
            f"template {template.name} has no such parameter (known: {sorted(known)})",
        )  # fmt: skip
    out: dict[str, Any] = {}
    for name, p in known.items():
        if name not in raw or raw[name] is None:
            if p.required:
                raise _err(
                    file,
                    rid,
                    f"params.{name}",
                    f"缺少必填参数（{p.doc}）",
                    f"missing required parameter ({p.doc})",
                )
            out[name] = copy.deepcopy(p.default)
            continue
        why = p.check(raw[name])
        if why:
            raise _err(
                file,
                rid,
                f"params.{name}",
                f"参数无效 {raw[name]!r}：{why}",
                f"bad parameter {raw[name]!r}: {why}",
            )
        out[name] = raw[name]
    return out


def build_rule(raw: Any, file: str = "<memory>") -> Rule:
    """Validate one rule mapping into a ``Rule`` (errors name file, rule and field)."""
    from fundguard.rules.templates import TEMPLATES

    if not isinstance(raw, dict):
        raise _err(file, "", "-", "规则应为映射", "a rule must be a mapping")
    rid = str(raw.get("id") or "")
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise _err(
            file,
            rid,
            unknown[0],
            f"未知字段（可用：{sorted(_FIELDS)}）",
            f"unknown field (known: {sorted(_FIELDS)})",
        )
    for f in _REQUIRED:
        if raw.get(f) in (None, ""):
            raise _err(file, rid, f, "缺少必填字段", "missing required field")
    if not (rid.startswith("GZ") or rid.startswith("ZB") or rid.startswith("L-")):
        raise _err(file, rid, "id", "规则编号须为国家编码（GZ/ZB…）或以 L- 开头的地方编号",
                   "rule id must be a national code (GZ/ZB…) or a local id starting with L-")  # fmt: skip
    tname = raw["template"]
    if tname not in TEMPLATES:
        raise _err(file, rid, "template", f"未知模板 {tname!r}（可用：{sorted(TEMPLATES)}）",
                   f"unknown template {tname!r} (known: {sorted(TEMPLATES)})")  # fmt: skip
    t = TEMPLATES[tname]
    kn = raw.get("knowledge") or None
    if kn is not None:
        if kn not in knowledge.KNOWLEDGE:
            raise _err(file, rid, "knowledge", f"未知知识表 {kn!r}（可用：{knowledge.names()}）",
                       f"unknown knowledge table {kn!r} (known: {knowledge.names()})")  # fmt: skip
        if kn not in t.knowledge:
            raise _err(file, rid, "knowledge", f"模板 {tname} 不接受知识表 {kn}（可用：{list(t.knowledge)}）",
                       f"template {tname} does not take {kn} (takes: {list(t.knowledge)})")  # fmt: skip
    elif t.knowledge_required:
        raise _err(
            file, rid, "knowledge", f"模板 {tname} 需要知识表", f"template {tname} needs a knowledge table"
        )
    params = _params(t, raw.get("params"), file, rid)
    for col in (params.get("kp_filter") or {}) if kn else ():
        if col not in knowledge.columns(kn):
            raise _err(
                file,
                rid,
                f"params.kp_filter.{col}",
                f"知识表 {kn} 无此列",
                f"knowledge table {kn} has no such column",
            )
    if raw["result_type"] not in RESULT_TYPES:
        raise _err(
            file, rid, "result_type", f"应为 {list(RESULT_TYPES)}", f"must be one of {list(RESULT_TYPES)}"
        )
    if raw["amount_rule"] not in t.amount_rules:
        raise _err(file, rid, "amount_rule", f"模板 {tname} 可用 {list(t.amount_rules)}",
                   f"template {tname} allows {list(t.amount_rules)}")  # fmt: skip
    severity = raw.get("severity") or "medium"
    if severity not in SEVERITIES:
        raise _err(file, rid, "severity", f"应为 {list(SEVERITIES)}", f"must be one of {list(SEVERITIES)}")
    rule = Rule(
        id=rid,
        name_zh=str(raw["name_zh"]),
        template=tname,
        params=params,
        result_type=raw["result_type"],
        legal_basis=str(raw["legal_basis"]),
        amount_rule=raw["amount_rule"],
        knowledge=kn,
        class_2025=str(raw.get("class_2025") or ""),
        scenes=_strings(raw.get("scenes", ["住院", "门急诊", "购药"]), file, rid, "scenes", SCENES),
        stages=_strings(raw.get("stages", list(STAGES)), file, rid, "stages", STAGES),
        knowledge_source=str(raw.get("knowledge_source") or ""),
        effective_from=_date(raw.get("effective_from"), file, rid, "effective_from"),
        effective_to=_date(raw.get("effective_to"), file, rid, "effective_to"),
        severity=severity,
        suggested_handling=str(raw.get("suggested_handling") or ""),
        version=str(raw.get("version") or "1"),
        enabled=bool(raw.get("enabled", True)),
        description_zh=str(raw.get("description_zh") or ""),
        source_file=file,
    )
    if rule.effective_from and rule.effective_to and rule.effective_to < rule.effective_from:
        raise _err(file, rid, "effective_to", "早于 effective_from", "is before effective_from")
    for fld, zh_en in t.check(rule):
        raise _err(file, rid, fld, zh_en.split(" / ")[-1], zh_en.split(" / ")[0])
    return rule


def _ruleset(rules: dict[str, Rule], files: tuple[str, ...]) -> RuleSet:
    blob = json.dumps([rules[k].normalised() for k in sorted(rules)], ensure_ascii=False, sort_keys=True)
    return RuleSet(rules, hashlib.sha256(blob.encode()).hexdigest()[:16], files)


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps dates as text, so a bad date is reported with its rule and field."""


_Loader.yaml_implicit_resolvers = {
    k: [r for r in v if r[0] != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _read(path: Path) -> list[Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except (OSError, yaml.YAMLError) as exc:
        raise RuleError(
            f"{path}：无法读取规则文件（{exc}）", f"{path}: cannot read rule file ({exc})"
        ) from exc
    if data is None:
        return []
    return data if isinstance(data, list) else [data]


def load_rules(paths: list[Path] | list[str] | None = None) -> RuleSet:
    """Read rule files (default: the national rules) and apply overrides; errors are ``RuleError``."""
    files = [Path(p) for p in (paths if paths is not None else national_rule_files())]
    expanded: list[Path] = []
    for p in files:
        expanded.extend(sorted(p.glob("*.yaml")) + sorted(p.glob("*.yml")) if p.is_dir() else [p])
    rules: dict[str, Rule] = {}
    overrides: list[tuple[str, dict]] = []
    for path in expanded:
        for raw in _read(path):
            if isinstance(raw, dict) and "override" in raw:
                overrides.append((str(path), raw))
                continue
            rule = build_rule(raw, str(path))
            if rule.id in rules:
                raise _err(str(path), rule.id, "id", f"规则编号重复（已见于 {rules[rule.id].source_file}）",
                           f"duplicate rule id (already in {rules[rule.id].source_file})")  # fmt: skip
            rules[rule.id] = rule
    for file, raw in overrides:
        rid = str(raw["override"])
        if rid not in rules:
            raise _err(file, rid, "override", "覆盖的规则不存在", "the rule to override does not exist")
        bad = sorted(set(raw) - _OVERRIDABLE - {"override"})
        if bad:
            raise _err(file, rid, bad[0], f"不可覆盖（可覆盖：{sorted(_OVERRIDABLE)}）",
                       f"cannot be overridden (allowed: {sorted(_OVERRIDABLE)})")  # fmt: skip
        base = rules[rid]
        merged = {k: v for k, v in asdict(base).items() if k in _FIELDS}
        merged["params"] = {**base.params, **(raw.get("params") or {})}
        for k in _OVERRIDABLE - {"params"}:
            if k in raw:
                merged[k] = raw[k]
        merged["scenes"], merged["stages"] = list(merged["scenes"]), list(merged["stages"])
        rules[rid] = build_rule(merged, file)
    return _ruleset(rules, tuple(str(p) for p in expanded))
