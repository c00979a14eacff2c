"""Map the national 药品限适应症 knowledge points to ICD-10 医保版 diagnosis codes / category prefixes.

Reads only the shipped knowledge base (``fundguard/kb/data``: knowledge points, 限适应症 drug codes, the
ICD-10 医保版 list) and the curated term table ``indication_synonyms.yaml``; writes
``indication_icd10.csv`` (one row per point × indication phrase × ICD-10 code or prefix) and
``indication_unmapped.csv`` (points without any mapping, with the reason). Deterministic; no models.

Method (transparent text matching, auditable by officials):

1. parse: the indication text is split into items (``1.`` … / ``；`` / ``。``) and then into phrases
   (``，、,`` and ``或``/``及``); parenthesised parts are kept as aliases (``(mHSPC)``, ``(Addison病)``);
   boilerplate (限, 患者, 的, 使用, 成人 …) is stripped; payment conditions (支付不超过14天, 二线, 经…治疗失败,
   既往…, 营养风险筛查 …) are kept as ``conditions`` text of the item and are not matched;
2. match each phrase, first rule that gives anything: ``synonym`` (curated terms found in the phrase or
   its aliases, longest first: the terms' prefixes with the table's confidence); ``exact`` (the phrase is
   an ICD-10 name: that code's sub-category, e.g. ``K21.001`` → ``K21.0``, high); ``prefix`` (an ICD-10
   name of ≥ 4 characters occurs in the phrase: its category / sub-category, medium); ``fuzzy``
   (character-bigram Dice ≥ 0.75 with an ICD-10 name, disease-like phrases only: that code, low).

Usage: ``uv run python tools/derive_indications.py [--out DIR]`` (prints coverage figures).
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
KB_DATA = REPO / "fundguard" / "kb" / "data"

MAPPING_HEADER = [
    "kp_id",
    "item_name",
    "phrase",
    "term",
    "icd10",
    "icd10_name",
    "match_kind",
    "confidence",
    "conditions",
    "item_no",
    "scope",
]
UNMAPPED_HEADER = ["kp_id", "item_name", "indication", "reason"]
CLAUSES_HEADER = ["kp_id", "item_name", "item_no", "kind", "clause"]
CONF_RANK = {"high": 0, "medium": 1, "low": 2}

_PAREN = re.compile(r"[(\[【]([^()\[\]【】]*)[)\]】]")
_ITEM_MARK = re.compile(r"(?:^|(?<=[:;。，,\s]))\(?\d{1,2}\)?[.．、](?!\d)")
_PHRASE_SPLIT = re.compile(r"[，,、/]|或者|或|及|以及|和/或")
# clauses that restrict payment or line of therapy rather than naming a diagnosis
_CONDITION = re.compile(
    r"支付|不超过|[一二三]线|既往|失败|进展|首次处方|营养风险|营养剂|住院|小时内|耐受|不耐|无效|不佳|"
    r"不充分|欠佳|应答|难以控制|达标|无法达到|药敏|生育保险|总量|停药|说明书|二级及以上|专科医师|"
    r"抢救|急救|重症感染|禁忌|评分|分级|DMARDs|NSAIDs|以下情况|联合|联用|方予|方可|按"
)
_STOP = re.compile(
    r"^(?:限|适用于|用于|治疗|诊断为|诊断明确的|有明确的?|伴有|携带|具有|存在)+|"
    r"(?:患者|成人|成年|儿童|青少年|人群|的治疗|治疗|诊断)+$|的|使用|成年|成人"
)
_DISEASE_LIKE = re.compile(
    r"病|症|炎|癌|瘤|感染|综合征|损伤|障碍|衰竭|出血|贫血|梗死|血症|硬化|溃疡|痛|疹|白血|淋巴|高压|纤维化|中毒|休克"
)


# clauses the claims cannot settle: a lab / measured value or a test result (检验、检查、病理), and a history
# (既往治疗、既往发生) — quoted to the reviewer, never judged 明确违规 by themselves
_LAB = re.compile(
    r"(?:低于|高于|<|>|≤|≥|大于|小于|不低于|不高于)\s*\d+(?:\.\d+)?(?![\d.])\s*(?!岁|周岁|个月|月|天|日|周|年|kg)"
    r"|阳性|阴性|突变|融合基因|表达|缺失|重排|扩增|评分|分期|(?:BMI|LVEF|eGFR|CPS|TPS|HbA1c)"
)
_HISTORY = re.compile(
    r"既往|曾经?|前次|病史|(?:经|接受过?).{0,24}(?:治疗|化疗|放疗)(?:失败|后)|治疗失败|治疗后.{0,6}进展|"
    r"[二三]线(?:及以上)?(?:系统)?治疗|初治|未经治疗"
)
# a history *diagnosis* (前次化疗曾发生重度中性粒细胞减少): the disease named after it may be in an earlier visit
_HISTORY_DX = re.compile(r"(?:曾经?|前次|既往).{0,12}(?:发生|出现|患有|患过|罹患)")
# chapters whose names mention a disease the patient need not have: external causes (V–Y: 抗贫血制剂的有害效应)
# and contact with services (Z: 个人史, 筛查, 随诊)
_NAME_CHAPTERS_EXCLUDED = frozenset("VWXYZ")
# a severity standing as an alternative to the diagnoses (限抢救、重症或因肝硬化…): no ICD-10 code says it
_ALTERNATIVE = re.compile(r"^(?:限)?(?:抢救|急救|重症|危重|危重症)(?:患者|病人)?$")
# ICD-10 names that mention a disease without the patient having it now
_NAME_EXCLUDE = re.compile(r"史|筛查|观察|疑似|可疑|除外|排除|预防|接种|接触|随诊|恐怖|担心|母体|母亲")


def clause_kind(raw: str) -> str | None:
    """``lab`` | ``history`` | None for one raw phrase of an indication item."""
    if "支付" in raw:
        return None  # payment conditions (支付不超过14天) are the course-limit rules' business
    if _HISTORY.search(raw):
        return "history"
    if _LAB.search(raw):
        return "lab"
    return None


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _norm(text: str) -> str:
    table = str.maketrans({"（": "(", "）": ")", "：": ":", "；": ";", "，": "，", "　": " "})
    return re.sub(r"\s+", " ", text.translate(table)).strip()


def split_items(text: str) -> list[str]:
    """Numbered / semicolon-separated items of an indication text, 限 prefix removed."""
    t = _norm(text)
    t = re.sub(r"^(?:限|适用于)\s*:?\s*", "", t)
    parts: list[str] = []
    for chunk in re.split(r"[;。]", t):
        parts.extend(p for p in _ITEM_MARK.split(chunk))
    return [p.strip(" :，,") for p in parts if p.strip(" :，,")]


def extract_aliases(item: str) -> tuple[str, list[str]]:
    """The item without parenthesised parts (innermost first) and those parts as aliases."""
    aliases: list[str] = []
    while True:
        m = _PAREN.search(item)
        if not m:
            break
        if m.group(1).strip():
            aliases.append(m.group(1).strip())
        item = item[: m.start()] + item[m.end() :]
    return item, aliases


def clean_phrase(phrase: str) -> str:
    prev = None
    phrase = phrase.strip(" :，,.")
    while prev != phrase:
        prev = phrase
        phrase = _STOP.sub("", phrase).strip(" :，,.")
    return phrase


def parse_indication(text: str) -> list[dict[str, object]]:
    """Items of an indication: [{phrases: [...], aliases: [...], conditions: [...]}] (see module doc)."""
    out = []
    for item in split_items(text):
        body, aliases = extract_aliases(item)
        phrases, conditions, clauses, history = [], [], [], []
        # clauses are read on the item's comma-separated parts (the phrase split would cut 且白蛋白低于30g/L off
        # its noun or 既往…治疗 off its disease), with the parenthesised parts put back
        for part in re.split(r"[，,;]", item):
            part = part.strip(" :，,")
            kind = clause_kind(part) if part else None
            if kind:
                clauses.append((kind, part))
        for raw in _PHRASE_SPLIT.split(body):
            raw = raw.strip(" :，,")
            if not raw:
                continue
            if _CONDITION.search(raw):
                conditions.append(raw)
            if _ALTERNATIVE.match(raw):
                clauses.append(("alternative", raw))
                continue
            p = clean_phrase(raw)
            if p:
                phrases.append(p)
                if _HISTORY_DX.search(raw):
                    history.append(p)
        out.append(
            {
                "phrases": phrases,
                "aliases": aliases,
                "conditions": conditions,
                "clauses": clauses,
                "history": history,
            }
        )
    return out


class Matcher:
    """Exact / synonym / ICD-name-substring / fuzzy matching against the ICD-10 医保版 list."""

    def __init__(self, icd: list[dict[str, str]], synonyms: list[dict], generic: list[str] = ()) -> None:
        self.generic = set(generic)
        self._prefix_names: dict[str, str] = {}
        self._named: dict[str, list[str]] = {}
        self.codes = sorted(r["code"] for r in icd)
        self.name_of = {r["code"]: r["name"] for r in icd}
        self.by_name: dict[str, str] = {}
        for code in self.codes:
            self.by_name.setdefault(self.name_of[code], code)
        self.terms: dict[str, tuple[list[str], str]] = {}
        self.whole: dict[str, tuple[list[str], str]] = {}
        for entry in synonyms:
            for p in entry["icd10"]:
                if not self.prefix_name(p):
                    raise ValueError(f"synonym prefix {p} matches no ICD-10 code")
            if entry["confidence"] not in CONF_RANK:
                raise ValueError(f"bad confidence in {entry}")
            for term in entry["terms"]:
                if entry.get("whole_phrase"):
                    self.whole[str(term)] = ([str(p) for p in entry["icd10"]], entry["confidence"])
                else:
                    self.terms[str(term)] = ([str(p) for p in entry["icd10"]], entry["confidence"])
        self.term_order = sorted(self.terms, key=lambda t: (-len(t), t))
        self.long_names = sorted(
            (n for n in self.by_name if len(n) >= 4 and _DISEASE_LIKE.search(n)), key=lambda n: (-len(n), n)
        )
        self.bigrams: dict[str, set[str]] = defaultdict(set)
        for n in self.by_name:
            for bg in _bigrams(n):
                self.bigrams[bg].add(n)

    def prefix_name(self, prefix: str) -> str:
        """Representative name of a prefix: the shortest name among its codes (first code on ties)."""
        if prefix == "C":
            return "恶性肿瘤(C00–C97)"
        if prefix not in self._prefix_names:
            names = [self.name_of[c] for c in self.codes if c.startswith(prefix)]
            self._prefix_names[prefix] = min(names, key=len) if names else ""
        return self._prefix_names[prefix]

    @staticmethod
    def category(code: str) -> str:
        """``C61.x00`` → ``C61``, ``K21.000`` → ``K21.0``; other (specific) codes stay as they are."""
        if re.fullmatch(r"[A-Z]\d\d\.x00", code):
            return code[:3]
        if re.fullmatch(r"[A-Z]\d\d\.\d00", code):
            return code[:5]
        return code

    @staticmethod
    def subcategory(code: str) -> str:
        """``K21.001`` → ``K21.0``, ``N19.x03`` → ``N19``, ``N18.900x012+D63.8*`` → ``N18.9``."""
        return code[:3] if code[4:5] == "x" else code[:5]

    def match(self, phrase: str, aliases: list[str]) -> list[tuple[str, str, str, str]]:
        """[(term, icd10, kind, confidence)] for one phrase."""
        if phrase in self.whole:
            prefixes, conf = self.whole[phrase]
            return [(phrase, p, "synonym", conf) for p in prefixes]
        hits: list[tuple[str, str, str, str]] = []
        for text in [phrase, *aliases]:
            rest = text
            for term in self.term_order:
                if term in rest:
                    rest = rest.replace(term, "\x00")
                    prefixes, conf = self.terms[term]
                    hits.extend((term, p, "synonym", conf) for p in prefixes)
        if hits:
            return hits
        if phrase in self.generic:
            return []
        if phrase in self.by_name:
            return [(phrase, self.subcategory(self.by_name[phrase]), "exact", "high")]
        for name in self.long_names:
            if name in phrase:
                return [(name, self.category(self.by_name[name]), "prefix", "medium")]
        if len(phrase) >= 3 and _DISEASE_LIKE.search(phrase) and not _CONDITION.search(phrase):
            best = self._fuzzy(phrase)
            if best:
                return [(best, self.by_name[best], "fuzzy", "low")]
        return []

    def named(self, term: str) -> list[str]:
        """Every ICD-10 医保版 code (all of ZD_INFO, chapters A–U) whose name contains the disease ``term``
        (not as ``非<term>``, nor in a history / screening / observation name): ``菌血症`` → A49.901,
        O85.x00x006, P36.902 …, beyond the curated prefixes. Only disease-like terms of ≥ 2 characters."""
        if len(term) < 2 or not _DISEASE_LIKE.search(term) or term in self.generic:
            return []
        got = self._named.get(term)
        if got is None:
            got = []
            for code in self.codes:
                name = self.name_of[code]
                at = name.find(term)
                if at < 0 or code[:1] in _NAME_CHAPTERS_EXCLUDED or _NAME_EXCLUDE.search(name):
                    continue
                if all(name[i - 1 : i] == "非" for i in _all_at(name, term)):
                    continue
                got.append(code)
            self._named[term] = got
        return got

    def _fuzzy(self, phrase: str) -> str | None:
        grams = _bigrams(phrase)
        cands: set[str] = set()
        for bg in grams:
            cands |= self.bigrams.get(bg, set())
        best, best_score = None, 0.0
        for name in sorted(cands):
            other = _bigrams(name)
            score = 2 * len(grams & other) / (len(grams) + len(other))
            if score > best_score:
                best, best_score = name, score
        return best if best_score >= 0.75 else None


def _all_at(text: str, term: str) -> list[int]:
    """Start offsets of every occurrence of ``term`` in ``text``."""
    return [m.start() for m in re.finditer(re.escape(term), text)]


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)} or {text}


def derive_rows(kb_data: Path = KB_DATA) -> tuple[list[list[str]], list[list[str]], list[list[str]]]:
    """(mapping rows, unmapped rows, clause rows), sorted, from the shipped kb files."""
    points = {r["kp_id"]: r for r in _rows(kb_data / "knowledge_points.csv")}
    kp_ids = sorted({r["kp_id"] for r in _rows(kb_data / "indication_drugs.csv")})
    table = yaml.safe_load((kb_data / "indication_synonyms.yaml").read_text(encoding="utf-8"))
    matcher = Matcher(_rows(kb_data / "icd10.csv"), table["synonyms"], table.get("generic_phrases", []))
    mapping: dict[tuple[str, str, str], list[str]] = {}
    unmapped: list[list[str]] = []
    clauses: set[tuple[str, str, str, str, str]] = set()
    for kp in kp_ids:
        item_name, text = points[kp]["item_name"], points[kp]["constraint"]
        n_before = len(mapping)
        for no, item in enumerate(parse_indication(text), start=1):
            conds = "；".join(item["conditions"])  # type: ignore[arg-type]
            history_mapped = False
            for phrase in item["phrases"]:  # type: ignore[union-attr]
                scope = "history" if phrase in item["history"] else "visit"  # type: ignore[operator]
                found = matcher.match(phrase, item["aliases"])  # type: ignore[arg-type]
                history_mapped |= scope == "history" and bool(found)
                # the disease each match names, against every ICD-10 name (not only the curated prefixes)
                named = [
                    (term, code, "name", "medium")
                    for term in sorted({t for t, _, kind, conf in found if conf != "low"})
                    for code in matcher.named(term)
                    if not any(code.startswith(p) for _, p, _, c in found if c != "low")
                ]
                for term, code, kind, conf in [*found, *named]:
                    key = (kp, phrase, code)
                    row = [
                        kp,
                        item_name,
                        phrase,
                        term,
                        code,
                        matcher.prefix_name(code),
                        kind,
                        conf,
                        conds,
                        str(no),
                        scope,
                    ]
                    if key not in mapping or CONF_RANK[conf] < CONF_RANK[mapping[key][7]]:
                        mapping[key] = row
            for kind, clause in item["clauses"]:  # type: ignore[union-attr]
                if kind == "history" and history_mapped and _HISTORY_DX.search(clause):
                    continue  # a history diagnosis the engine looks for in the person's visits
                clauses.add((kp, item_name, str(no), kind, clause))
        if len(mapping) == n_before:
            disease = any(
                _DISEASE_LIKE.search(p) and not _CONDITION.search(p)
                for it in parse_indication(text)
                for p in it["phrases"]  # type: ignore[union-attr]
            )
            reason = (
                "disease phrase not recognised (no synonym, ICD-10 name or fuzzy match)"
                if disease
                else "no diagnosis named (organism/sensitivity, severity, therapy or payment condition only)"
            )
            unmapped.append([kp, item_name, text, reason])
    return sorted(mapping.values()), sorted(unmapped), sorted(list(c) for c in clauses)


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def coverage(mapping: list[list[str]], n_points: int) -> dict[str, int]:
    """Points by their best mapping confidence (plus ``unmapped``)."""
    best: dict[str, int] = {}
    for r in mapping:
        best[r[0]] = min(best.get(r[0], 9), CONF_RANK[r[7]])
    counts = Counter({"high": 0, "medium": 0, "low": 0})
    counts.update({0: "high", 1: "medium", 2: "low"}[v] for v in best.values())
    return {**counts, "unmapped": n_points - len(best)}


def derive(out: Path = KB_DATA, kb_data: Path = KB_DATA) -> dict[str, int]:
    mapping, unmapped, clauses = derive_rows(kb_data)
    _write(out / "indication_icd10.csv", MAPPING_HEADER, mapping)
    _write(out / "indication_unmapped.csv", UNMAPPED_HEADER, unmapped)
    _write(out / "indication_clauses.csv", CLAUSES_HEADER, clauses)
    n = len({r[0] for r in mapping}) + len(unmapped)
    return coverage(mapping, n)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=KB_DATA)
    args = ap.parse_args(argv)
    cov = derive(args.out)
    total = sum(cov.values())
    for k in ("high", "medium", "low", "unmapped"):
        print(f"{k:>9}: {cov[k]:4d} points ({cov[k] / total:6.1%})")
    hm = cov["high"] + cov["medium"]
    print(f"high/medium: {hm}/{total} points ({hm / total:.1%}) have >=1 high- or medium-confidence mapping")
    return 0


if __name__ == "__main__":
    sys.exit(main())
