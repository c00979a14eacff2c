"""DuckDB SQL → Spark SQL with the same results: the engine differences declared as data.

The templates write DuckDB SQL. sqlglot transpiles it (``read="duckdb"``, written by ``Spark4``, sqlglot's
Spark dialect keeping QUALIFY); where sqlglot would carry a construct over with other semantics, ``REWRITES``
declares the difference — the DuckDB construct (an expression type and a test), the Spark expression that
gives DuckDB's result, and why — the way sqlglot's dialects declare theirs in ``TRANSFORMS`` tables. Adding
an engine difference is one function and one row; ``tests/engine/test_spark.py`` runs each row's construct on
both engines. One difference is in the plan, not a node: Spark computes a CTE again wherever it is read,
so ``to_spark_steps`` splits out those read more than once, for the engine to compute first.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Collection
from typing import ClassVar, NamedTuple

import sqlglot
from sqlglot import exp, transforms
from sqlglot.dialects.spark import Spark

from fundguard.core.errors import InputError


class Spark4(Spark):
    """sqlglot's Spark dialect, keeping QUALIFY (Spark ≥ 4 has it): sqlglot's rewrite into a subquery
    resolves a qualified column (``o.bkkp_sn``) to a same-named SELECT alias, changing the partition. And
    keeping nested WITHs where they are (Spark has them): sqlglot hoists them to the top, Hive-style, where
    the rules of one query (``Template.sql_group``) would each define their own ``b``."""

    class Generator(Spark.Generator):
        EXPRESSIONS_WITHOUT_NESTED_CTES: ClassVar[set] = set()
        TRANSFORMS: ClassVar[dict] = {
            **Spark.Generator.TRANSFORMS,
            exp.Select: transforms.preprocess(
                [transforms.eliminate_distinct_on, transforms.unnest_to_explode, transforms.any_to_exists]
            ),
        }


def _lit(sql: str) -> exp.Expression:
    return sqlglot.parse_one(sql, read="spark")


def _spark(node: exp.Expression) -> str:
    return node.sql(dialect="spark")


# --- the rewrites: each takes a DuckDB node (its children already rewritten) and returns its Spark form ------


def _ordered_list(agg: exp.ArrayAgg) -> tuple[exp.Expression, str]:
    """``list(v ORDER BY k…)`` → (a Spark aggregate, a wrapper applied to its result)."""
    order = agg.this
    value = order.this
    keys = order.expressions
    if any(k.args.get("desc") for k in keys):
        raise InputError(
            "Spark 引擎暂不支持 list(… ORDER BY … DESC)", "list(… ORDER BY … DESC) is not supported on Spark"
        )
    if isinstance(value, exp.Distinct):
        (inner,) = value.expressions
        if not (len(keys) == 1 and keys[0].this == inner):
            raise InputError(
                "Spark 引擎仅支持按自身排序的 list(DISTINCT …)",
                "list(DISTINCT x ORDER BY …) must order by x itself on Spark",
            )
        # collect_set drops NULLs: sorting the distinct values ascending, NULL last, as DuckDB orders
        return exp.Anonymous(this="COLLECT_SET", expressions=[inner.copy()]), "ARRAY_SORT({})"
    # sort (key is null, key, …, value) structs: NULLs last like DuckDB, and NULL values are kept
    fields: list[exp.Expression] = []
    for i, k in enumerate(keys):
        fields += [exp.Literal.string(f"n{i}"), exp.Is(this=k.this.copy(), expression=exp.Null())]
        fields += [exp.Literal.string(f"k{i}"), k.this.copy()]
    fields += [exp.Literal.string("v"), value.copy()]
    struct = exp.Anonymous(this="NAMED_STRUCT", expressions=fields)
    return exp.Anonymous(this="COLLECT_LIST", expressions=[struct]), "TRANSFORM(ARRAY_SORT({}), _s -> _s.v)"


def _list_agg(node: exp.Expression) -> exp.Expression:
    """DuckDB ``list(…)`` (optionally ``FILTER (WHERE …)``) as Spark, keeping ORDER BY and NULL-when-empty."""
    filt = node if isinstance(node, exp.Filter) else None
    agg = node.this if filt else node
    if isinstance(agg.this, exp.Order):
        spark_agg, wrap = _ordered_list(agg)
    else:
        spark_agg, wrap = agg.copy(), "{}"
    if filt:
        spark_agg = exp.Filter(this=spark_agg, expression=filt.expression.copy())
    # DuckDB's list() over no rows is NULL (only possible under FILTER); collect_list gives []
    agg_sql = _spark(spark_agg)
    result = wrap.format(agg_sql)
    if filt:
        result = f"IF(SIZE({agg_sql}) = 0, NULL, {result})"
    return _lit(result)


def _string_agg_distinct(node: exp.GroupConcat) -> exp.Expression:
    (value,) = node.this.this.expressions
    keys = node.this.expressions
    if len(keys) != 1 or keys[0].this != value or keys[0].args.get("desc"):
        raise InputError(
            "Spark 引擎仅支持按自身升序排序的 string_agg(DISTINCT …)",
            "string_agg(DISTINCT x ORDER BY …) must order by x ascending on Spark",
        )
    v, sep = _spark(value), _spark(node.args["separator"])
    return _lit(f"IF(SIZE(COLLECT_SET({v})) = 0, NULL, ARRAY_JOIN(ARRAY_SORT(COLLECT_SET({v})), {sep}))")


def _count_distinct_window(node: exp.Window) -> exp.Expression:
    (value,) = node.this.this.expressions
    win = node.copy()
    win.set("this", exp.Anonymous(this="COLLECT_SET", expressions=[value.copy()]))
    return exp.Anonymous(this="SIZE", expressions=[win])


def _list_bool_or(node: exp.Anonymous) -> exp.Expression:
    (arg,) = node.expressions
    if isinstance(arg, exp.Transform):  # list_bool_or(list_transform(l, f)) → exists(l, f)
        return exp.Anonymous(this="EXISTS", expressions=[arg.this.copy(), arg.expression.copy()])
    return _lit(f"EXISTS({_spark(arg)}, _b -> _b)")


_RENAMES = {"LIST_INTERSECT": "ARRAY_INTERSECT", "LIST_DISTINCT": "ARRAY_DISTINCT"}


def _rename(node: exp.Anonymous) -> exp.Expression:
    return exp.Anonymous(this=_RENAMES[node.name.upper()], expressions=[e.copy() for e in node.expressions])


def _interval_expression(node: exp.Interval) -> exp.Expression:
    unit = node.args.get("unit")
    one = exp.Interval(this=exp.Literal.number(1), unit=unit.copy() if unit else None)
    return exp.Mul(this=node.this.copy(), expression=one)


def _day_diff(node: exp.DateDiff) -> exp.Expression:
    date = exp.DataType.build("DATE")
    return exp.Anonymous(
        this="DATEDIFF",
        expressions=[
            exp.Cast(this=node.this.copy(), to=date),
            exp.Cast(this=node.expression.copy(), to=date),
        ],
    )


def _epoch(node: exp.TimeToUnix) -> exp.Expression:
    return _lit(f"UNIX_MICROS(CAST({_spark(node.this)} AS TIMESTAMP)) / 1000000.0D")


def _float_division(node: exp.Div) -> exp.Expression:
    double = exp.DataType.build("DOUBLE")
    return exp.Div(
        this=exp.Cast(this=node.this.copy(), to=double),
        expression=exp.Cast(this=node.expression.copy(), to=double),
    )


def _decimal_cast(node: exp.Cast) -> exp.Expression:
    params = node.to.expressions
    scale = int(params[1].this.this) if len(params) > 1 else 0
    p10 = 10**scale
    return _lit(
        f"CAST(CAST(ROUND(({_spark(node.this)}) * {p10}) AS DECIMAL(38, 0)) / {p10} AS {_spark(node.to)})"
    )


def _han_regex(node: exp.Literal) -> exp.Expression:
    return exp.Literal.string(node.this.replace("\\p{Han}", "\\p{IsHan}"))


_PASS = re.compile(r"\(HASH\(.+\) % (?P<n>\d+) \+ (?P=n)\) % (?P=n) = (?P<i>\d+)")


def _without_pass(branch: exp.Expression) -> tuple[exp.Expression, int, int] | None:
    """(the branch without its pass condition, passes, pass) for a pass of ``rules.base.over_limit_buckets``."""
    where = branch.args.get("where") if isinstance(branch, exp.Select) else None
    m = _PASS.fullmatch(where.this.sql(dialect="duckdb")) if where else None
    if m is None:
        return None
    whole = branch.copy()
    whole.set("where", None)
    return whole, int(m["n"]), int(m["i"])


def _union_branches(node: exp.Expression) -> list[exp.Expression]:
    """The branches of a UNION ALL chain, left to right."""
    if isinstance(node, exp.Union) and not node.args.get("distinct"):
        return [*_union_branches(node.this), *_union_branches(node.expression)]
    return [node]


def _all_passes(node: exp.Union) -> bool:
    branches = _union_branches(node)
    passes = [p for p in map(_without_pass, branches) if p]
    return (
        len(passes) == len(branches) > 1
        and len({whole.sql() for whole, _, _ in passes}) == 1
        and sorted(i for _, _, i in passes) == list(range(passes[0][1]))
    )


def _one_pass(node: exp.Union) -> exp.Expression:
    found = _without_pass(_union_branches(node)[0])
    assert found is not None  # _all_passes held
    return found[0]


# --- the table -------------------------------------------------------------------------------------------------


class Rewrite(NamedTuple):
    """One engine difference: DuckDB nodes of type ``node`` for which ``when`` holds become ``to(node)``."""

    node: type[exp.Expression]
    when: Callable[[exp.Expression], bool]
    to: Callable[[exp.Expression], exp.Expression]
    why: str


def _always(_: exp.Expression) -> bool:
    return True


REWRITES: tuple[Rewrite, ...] = (
    Rewrite(exp.Filter, lambda n: isinstance(n.this, exp.ArrayAgg), _list_agg,
            "list(…) FILTER (WHERE …) is NULL over no rows (collect_list gives []); ORDER BY kept by sorting"),
    Rewrite(exp.ArrayAgg, lambda n: not isinstance(n.parent, exp.Filter), _list_agg,
            "list(v ORDER BY k): Spark has no ordered aggregate; sorted structs, NULL keys last like DuckDB"),
    Rewrite(exp.GroupConcat,
            lambda n: isinstance(n.this, exp.Order) and isinstance(n.this.this, exp.Distinct),
            _string_agg_distinct,
            "string_agg(DISTINCT x, sep ORDER BY x): two LISTAGG(DISTINCT) in one aggregate fail on Spark 4.3; "
            "the sorted set joined is the same text"),
    Rewrite(exp.Window, lambda n: isinstance(n.this, exp.Count) and isinstance(n.this.this, exp.Distinct),
            _count_distinct_window, "count(DISTINCT x) OVER (…) is not a Spark window function: size of the set"),
    Rewrite(exp.Anonymous, lambda n: n.name.upper() == "LIST_BOOL_OR", _list_bool_or,
            "list_bool_or(list) → exists(list, x -> x)"),
    Rewrite(exp.Anonymous, lambda n: n.name.upper() in _RENAMES, _rename, "list_* functions named array_* on Spark"),
    Rewrite(exp.Interval, lambda n: isinstance(n.this, exp.Paren), _interval_expression,
            "INTERVAL (n) DAY → (n) * INTERVAL 1 DAY"),
    Rewrite(exp.DateDiff, lambda n: n.text("unit").upper() in ("DAY", ""), _day_diff,
            "date_diff('day', …) counts day boundaries; Spark's 3-argument form counts 24 h"),
    Rewrite(exp.TimeToUnix, _always, _epoch, "epoch() keeps fractional seconds"),
    Rewrite(exp.Div, _always, _float_division,
            "DuckDB's / is always floating-point (decimals too); Spark keeps decimals as decimals"),
    Rewrite(exp.Cast, lambda n: n.to.this == exp.DataType.Type.DECIMAL, _decimal_cast,
            "DuckDB rounds x·10^s half away from zero in the operand's type; Spark rounds a double by its "
            "shortest decimal form (1.005 → 1.01 where DuckDB gives 1.00)"),
    Rewrite(exp.Union, _all_passes, _one_pass,
            "over_limit_buckets' passes bound DuckDB's hash aggregate, which does not spill its table directory; "
            "Spark's aggregate spills, and every pass is one more scan of the lines: one pass"),
    Rewrite(exp.Literal, lambda n: n.is_string and "\\p{Han}" in n.this, _han_regex,
            "RE2's \\p{Han} is \\p{IsHan} in java.util.regex"),
)  # fmt: skip
"""The engine differences, DuckDB → Spark; the first row whose type and test match a node applies."""

_BY_TYPE: dict[type[exp.Expression], list[Rewrite]] = {}
for _r in REWRITES:
    _BY_TYPE.setdefault(_r.node, []).append(_r)


def _rewrite(node: exp.Expression) -> exp.Expression | None:
    for cls in type(node).__mro__:  # a row for a type matches its subtypes too (TRY_CAST is a Cast)
        for r in _BY_TYPE.get(cls, ()):
            if r.when(node):
                return r.to(node)
    return None


def _transpiled(sql: str) -> exp.Expression:
    tree = sqlglot.parse_one(sql, read="duckdb")
    # children before parents, so a rewritten parent is built from rewritten operands
    for node in reversed(list(tree.walk())):
        new = _rewrite(node)
        if new is not None:
            if node is tree:
                tree = new
            else:
                node.replace(new)
    return tree


def to_spark(sql: str) -> str:
    """``sql`` (DuckDB dialect, as the templates generate it) as Spark SQL with the same results."""
    return _transpiled(sql).sql(dialect=Spark4)


# --- the plan-level difference: CTEs read more than once --------------------------------------------------


class SparkSteps(NamedTuple):
    """A query as Spark runs it: the ``shared`` CTEs — (name, Spark SQL) — to materialise first, in order,
    each as a temp view of its name, then the ``main`` query reading them."""

    shared: tuple[tuple[str, str], ...]
    main: str


def to_spark_steps(sql: str, reserved: Collection[str] = ()) -> SparkSteps:
    """``sql`` (DuckDB dialect) as Spark steps with the same results, its shared CTEs split out.

    DuckDB computes a CTE read more than once a single time; Spark inlines every deterministic CTE where it
    is read (its ``InlineCTE`` rule) and computes it again there, each copy with its own stages: one grouped
    template query (``Template.sql_group``) grew to 187 stages at 100k lines. So the CTEs of the outermost
    WITH that are read more than once become steps of their own (with the CTEs before them that they may
    read), unless their name is also a nested CTE's (scoping) or ``reserved`` (a view the query reads)."""
    tree = _transpiled(sql)
    outer = next(tree.find_all(exp.With), None)  # breadth first: the outermost
    if outer is None or outer.args.get("recursive"):
        return SparkSteps((), tree.sql(dialect=Spark4))
    reads = Counter(t.name for t in tree.find_all(exp.Table) if not t.db)
    nested = {c.alias for w in tree.find_all(exp.With) if w is not outer for c in w.expressions}
    shared: list[tuple[str, str]] = []
    kept: list[exp.CTE] = []
    for cte in list(outer.expressions):
        name = cte.alias
        if reads[name] < 2 or name in nested or name in reserved or cte.args["alias"].columns:
            kept.append(cte)
            continue
        before = f"WITH {', '.join(c.sql(dialect=Spark4) for c in kept)} " if kept else ""
        shared.append((name, f"{before}SELECT * FROM ({cte.this.sql(dialect=Spark4)}) AS {name}"))
        cte.pop()
    if not outer.expressions:
        outer.pop()
    return SparkSteps(tuple(shared), tree.sql(dialect=Spark4))
