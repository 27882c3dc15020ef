"""The subset of KQL the emulator's Resource Graph interprets (see docs/emulator.md).

``where`` (comparisons, ``in``, string operators, ``and``/``or``/``not``, a few functions),
``order``/``sort by``, ``limit``/``take``/``top``; ``project`` and ``extend`` are accepted and
ignored (whole resource rows come back).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class KqlError(ValueError):
    pass


_KQL_TOKEN = re.compile(
    r"""
    (?P<ws>\s+|//[^\n]*)
  | (?P<str>@?'(?:[^'\\]|\\.)*'|@?"(?:[^"\\]|\\.)*")
  | (?P<num>-?\d+(?:\.\d+)?)
  | (?P<op>!in~|in~|!in\b|!contains_cs\b|!contains\b|!has_cs\b|!has\b|!startswith\b|!endswith\b|=~|!~|==|!=|<=|>=|<|>|=)
  | (?P<kw>project-away|project-keep|project-rename|project-reorder|mv-expand|mv-apply)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[|().,\[\]])
    """,
    re.X,
)
_WORD_OPS = {"in", "contains", "contains_cs", "has", "has_cs", "startswith", "endswith", "startswith_cs", "endswith_cs"}
_IGNORED_OPERATORS = {"project", "extend", "project-away", "project-keep", "project-rename", "project-reorder"}
_TABULAR = {"where", "order", "sort", "limit", "take", "top", *_IGNORED_OPERATORS}
_FUNCTIONS = {
    "isnotempty",
    "isempty",
    "isnull",
    "isnotnull",
    "tolower",
    "toupper",
    "tostring",
    "tobool",
    "toint",
    "tolong",
    "array_length",
}

Row = dict[str, Any]
Expr = Callable[[Row], Any]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def _lookup(row: Any, path: list[str | int]) -> Any:
    value = row
    for step in path:
        if isinstance(step, int):
            value = value[step] if isinstance(value, list) and -len(value) <= step < len(value) else None
        elif isinstance(value, dict):
            if step in value:
                value = value[step]
            else:
                value = next((v for k, v in value.items() if k.lower() == step.lower()), None)
        else:
            return None
        if value is None:
            return None
    return value


def _compare(op: str, left: Any, right: Any) -> bool:
    negate = op.startswith("!") and op not in ("!=", "!~")
    base = op[1:] if negate else op
    if base in ("in", "in~"):
        items = right if isinstance(right, list) else [right]
        fold = base == "in~"
        lt = _text(left).lower() if fold else _text(left)
        found = any(lt == (_text(i).lower() if fold else _text(i)) for i in items)
        return found != negate
    if base in ("==", "!=", "=~", "!~"):
        ln, rn = _number(left), _number(right)
        if ln is not None and rn is not None and not isinstance(left, str) and not isinstance(right, str):
            equal = ln == rn
        elif base in ("=~", "!~"):
            equal = _text(left).lower() == _text(right).lower()
        else:
            equal = _text(left) == _text(right)
        return equal if base in ("==", "=~") else not equal
    if base in ("<", "<=", ">", ">="):
        ln, rn = _number(left), _number(right)
        a: Any = ln if ln is not None and rn is not None else _text(left)
        b: Any = rn if ln is not None and rn is not None else _text(right)
        return bool({"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[base])
    cs = base.endswith("_cs")
    word = base.removesuffix("_cs")
    lt, rt = _text(left), _text(right)
    if not cs:
        lt, rt = lt.lower(), rt.lower()
    if word == "contains":
        result = rt in lt
    elif word == "has":
        result = re.search(rf"(?<![A-Za-z0-9]){re.escape(rt)}(?![A-Za-z0-9])", lt) is not None
    elif word == "startswith":
        result = lt.startswith(rt)
    elif word == "endswith":
        result = lt.endswith(rt)
    else:  # pragma: no cover - the parser only builds known operators
        raise KqlError(f"unknown operator {op}")
    return result != negate


def _call(name: str, value: Any) -> Any:
    if name == "isnotempty":
        return _text(value) != ""
    if name == "isempty":
        return _text(value) == ""
    if name == "isnull":
        return value is None
    if name == "isnotnull":
        return value is not None
    if name == "tolower":
        return _text(value).lower()
    if name == "toupper":
        return _text(value).upper()
    if name == "tostring":
        return _text(value)
    if name == "tobool":
        return _text(value).lower() == "true"
    if name in ("toint", "tolong"):
        number = _number(value)
        return int(number) if number is not None else None
    if name == "array_length":
        return len(value) if isinstance(value, list) else None
    raise KqlError(f"function {name}() is not supported")  # pragma: no cover


@dataclass
class GraphPlan:
    table: str = "resources"
    filters: list[Expr] = field(default_factory=list)
    order: list[tuple[list[str | int], bool]] = field(default_factory=list)  # (path, descending)
    limit: int | None = None

    def run(self, rows: list[Row]) -> list[Row]:
        out = [r for r in rows if all(bool(f(r)) for f in self.filters)]
        for path, descending in reversed(self.order):
            present = [r for r in out if _lookup(r, path) is not None]
            missing = [r for r in out if _lookup(r, path) is None]

            def key(row: Row, path: list[str | int] = path) -> tuple[int, Any]:
                return _sort_key(_lookup(row, path))

            present.sort(key=key, reverse=descending)
            out = present + missing
        if self.limit is not None:
            out = out[: self.limit]
        return out


def _sort_key(value: Any) -> tuple[int, Any]:
    number = _number(value)
    if number is not None and not isinstance(value, str):
        return (0, number)
    return (1, _text(value).lower())


class KqlParser:
    """Parses the subset of KQL the emulator's Resource Graph understands (see docs/emulator.md)."""

    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            m = _KQL_TOKEN.match(text, pos)
            if m is None:
                raise KqlError(f"unexpected character {text[pos]!r} at position {pos}")
            pos = m.end()
            kind = m.lastgroup or ""
            if kind != "ws":
                self.tokens.append((kind, m.group()))
        self.i = 0

    def peek(self, offset: int = 0) -> tuple[str, str]:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.i += 1
        return token

    def expect(self, value: str) -> None:
        _kind, text = self.take()
        if text.lower() != value:
            raise KqlError(f"expected {value!r}, found {text or 'end of query'!r}")

    def parse(self) -> GraphPlan:
        plan = GraphPlan()
        kind, text = self.peek()
        if kind == "ident" and text.lower() not in _TABULAR:
            plan.table = self.take()[1].lower()
            if self.peek()[0] != "end" and self.peek()[1] != "|":
                raise KqlError(f"expected '|' after the table name, found {self.peek()[1]!r}")
        first = self.peek()[0] != "end" and self.peek()[1] != "|"
        while self.peek()[0] != "end":
            if not first:
                self.expect("|")
            first = False
            kind, op = self.take()
            op = op.lower()
            if op == "where":
                plan.filters.append(self.expression())
            elif op in _IGNORED_OPERATORS:
                self.skip_operator()
            elif op in ("order", "sort"):
                self.expect("by")
                plan.order.extend(self.sort_list())
            elif op in ("limit", "take"):
                plan.limit = self.count()
            elif op == "top":
                plan.limit = self.count()
                self.expect("by")
                plan.order = self.sort_list()
            else:
                raise KqlError(
                    f"the emulator's Resource Graph does not support the '{op}' operator "
                    "(it supports where, order/sort by, limit/take/top; project and extend are ignored)"
                )
        return plan

    def skip_operator(self) -> None:
        depth = 0
        while self.peek()[0] != "end":
            text = self.peek()[1]
            if text in ("(", "["):
                depth += 1
            elif text in (")", "]"):
                depth -= 1
            elif text == "|" and depth == 0:
                return
            self.take()

    def count(self) -> int:
        kind, text = self.take()
        if kind != "num" or not text.isdigit():
            raise KqlError(f"expected a row count, found {text or 'end of query'!r}")
        return int(text)

    def sort_list(self) -> list[tuple[list[str | int], bool]]:
        out = []
        while True:
            path = self.path()
            descending = True  # KQL sorts descending unless told otherwise
            if self.peek()[1].lower() in ("asc", "desc"):
                descending = self.take()[1].lower() == "desc"
            if self.peek()[1].lower() == "nulls":
                self.take()
                self.take()
            out.append((path, descending))
            if self.peek()[1] != ",":
                return out
            self.take()

    def path(self) -> list[str | int]:
        kind, text = self.take()
        if kind != "ident":
            raise KqlError(f"expected a column name, found {text or 'end of query'!r}")
        path: list[str | int] = [text]
        while self.peek()[1] in (".", "["):
            if self.take()[1] == ".":
                kind, text = self.take()
                if kind != "ident":
                    raise KqlError(f"expected a property name after '.', found {text!r}")
                path.append(text)
            else:
                kind, text = self.take()
                if kind == "str":
                    path.append(_unquote(text))
                elif kind == "num" and text.lstrip("-").isdigit():
                    path.append(int(text))
                else:
                    raise KqlError(f"expected a string or index inside [], found {text!r}")
                self.expect("]")
        return path

    def expression(self) -> Expr:
        left = self.conjunction()
        while self.peek()[1].lower() == "or":
            self.take()
            right = self.conjunction()
            left = (lambda a, b: lambda r: bool(a(r)) or bool(b(r)))(left, right)
        return left

    def conjunction(self) -> Expr:
        left = self.negation()
        while self.peek()[1].lower() == "and":
            self.take()
            right = self.negation()
            left = (lambda a, b: lambda r: bool(a(r)) and bool(b(r)))(left, right)
        return left

    def negation(self) -> Expr:
        if self.peek()[1].lower() == "not" and self.peek(1)[1] == "(":
            self.take()
            self.take()
            inner = self.expression()
            self.expect(")")
            return lambda r: not bool(inner(r))
        if self.peek()[1] == "(":
            self.take()
            inner = self.expression()
            self.expect(")")
            return inner
        return self.comparison()

    def comparison(self) -> Expr:
        left = self.value()
        kind, text = self.peek()
        op = text.lower()
        if kind == "op" or (kind == "ident" and op in _WORD_OPS):
            self.take()
            if op == "=":
                raise KqlError("use '==' (or '=~') to compare, not '='")
            if op in ("in", "in~", "!in", "!in~"):
                self.expect("(")
                items = [self.value()]
                while self.peek()[1] == ",":
                    self.take()
                    items.append(self.value())
                self.expect(")")
                return lambda r: _compare(op, left(r), [item(r) for item in items])
            right = self.value()
            return lambda r: _compare(op, left(r), right(r))
        return left

    def value(self) -> Expr:
        kind, text = self.take()
        if kind == "str":
            literal = _unquote(text)
            return lambda r: literal
        if kind == "num":
            number = float(text) if "." in text else int(text)
            return lambda r: number
        if kind == "ident":
            lowered = text.lower()
            if lowered in ("true", "false"):
                flag = lowered == "true"
                return lambda r: flag
            if lowered == "null":
                return lambda r: None
            if self.peek()[1] == "(":
                if lowered not in _FUNCTIONS:
                    raise KqlError(f"the emulator's Resource Graph does not support the function {text}()")
                self.take()
                arg = self.value()
                self.expect(")")
                return lambda r: _call(lowered, arg(r))
            self.i -= 1
            path = self.path()
            return lambda r: _lookup(r, path)
        raise KqlError(f"unexpected {text or 'end of query'!r}")


def _unquote(token: str) -> str:
    verbatim = token.startswith("@")
    body = token[2:-1] if verbatim else token[1:-1]
    if verbatim:
        return body
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def parse_kql(query: str) -> GraphPlan:
    return KqlParser(query).parse()
