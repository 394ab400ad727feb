"""MLflow's ``search_runs`` filter strings and ``order_by`` clauses, evaluated in pure Python.

A filter is parsed once into a :class:`RunFilter`, whose predicate is a tree of closures,
so testing thousands of records costs a few dict look-ups each. The grammar is MLflow's,
with ``OR`` and parentheses added (``AND`` binds tighter than ``OR``)::

    filter      := [or_expr]
    or_expr     := and_expr ("OR" and_expr)*
    and_expr    := primary ("AND" primary)*
    primary     := "(" or_expr ")" | comparison
    comparison  := identifier comparator
    comparator  := ("=" | "!=" | "<" | "<=" | ">" | ">=" | "LIKE" | "ILIKE") literal
                 | ["NOT"] "IN" "(" literal ("," literal)* ")"
                 | "IS" ["NOT"] "NULL"
    identifier  := prefix "." key | attribute
    order_by    := identifier ["ASC" | "DESC"]

Records are mappings with ``attributes``, ``params``, ``metrics`` and ``tags`` sub-mappings.
A run that lacks the named metric, param, tag or attribute matches no comparison except
``IS NULL``. A param whose value is ``None`` is present, with the string form ``'None'``, as
it would be after ``mlflow.log_param``.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, TypeVar, cast

from runfolio.errors import FilterError

__all__ = ["OrderKey", "RunFilter", "parse_filter", "parse_order_by", "sort_records"]

Record = Mapping[str, Any]
_R = TypeVar("_R", bound=Record)
_Predicate = Callable[[Record], bool]

METRICS = "metrics"
PARAMS = "params"
TAGS = "tags"
ATTRIBUTES = "attributes"

_PREFIXES = {
    "metric": METRICS,
    "metrics": METRICS,
    "param": PARAMS,
    "params": PARAMS,
    "parameter": PARAMS,
    "parameters": PARAMS,
    "tag": TAGS,
    "tags": TAGS,
    "attribute": ATTRIBUTES,
    "attributes": ATTRIBUTES,
    "attr": ATTRIBUTES,
    "run": ATTRIBUTES,
}
_TIME_ATTRIBUTES = frozenset({"start_time", "end_time"})
_ATTRIBUTES = frozenset(
    {
        "run_id",
        "run_name",
        "status",
        "start_time",
        "end_time",
        "user_id",
        "experiment_id",
        "experiment_name",
        "parent_run_id",
        "artifact_uri",
    }
)
_ATTRIBUTE_ALIASES = {"created": "start_time", "user": "user_id", "experiment": "experiment_name"}
_VALID_ATTRIBUTES = ", ".join(sorted(_ATTRIBUTES | _ATTRIBUTE_ALIASES.keys()))

_KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "ILIKE"})
_COMPARATORS = "=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS"
_ORDERING_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_DEFAULT_ORDER = ("attributes.start_time DESC", "attributes.run_id ASC")

# ASCII digits only: int() and float() accept other scripts' digits, which would let
# oddities like '٣' through as numbers.
_NUMBER_RE = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_NUMERIC_STRING_RE = re.compile(r"\s*[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\s*")
_WORD_RE = re.compile(r"[^\W\d][\w.\-/:]*")
_TWO_CHAR_OPS = frozenset({"<=", ">=", "!="})
_ONE_CHAR_OPS = frozenset("=<>(),")
# Parentheses nest through recursion; a bound keeps hostile input from hitting Python's
# recursion limit (which would surface as RecursionError, not FilterError).
_MAX_DEPTH = 100

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_MISSING = object()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# --------------------------------------------------------------------------- tokens


@dataclass(frozen=True, slots=True)
class _Token:
    """One lexical token; ``value`` holds the unescaped string, the number, or the key."""

    kind: str  # "word", "key", "string", "number", "op" or "end"
    text: str
    pos: int
    value: Any = None

    def is_keyword(self, *words: str) -> bool:
        """Return whether this token is one of the given (upper-case) keywords."""
        return self.kind == "word" and self.text.upper() in words

    def is_op(self, op: str) -> bool:
        """Return whether this token is the given operator or punctuation."""
        return self.kind == "op" and self.text == op


def _format_error(text: str, pos: int, message: str, what: str) -> FilterError:
    """Build a FilterError that shows the line of ``text`` holding ``pos`` with a caret."""
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    line = text[line_start : len(text) if line_end == -1 else line_end]
    # Copy tabs so the caret lines up however the terminal expands them.
    pad = "".join("\t" if ch == "\t" else " " for ch in text[line_start:pos])
    return FilterError(f"Invalid {what} at position {pos}: {message}\n  {line}\n  {pad}^")


def _read_quoted(text: str, start: int, what: str) -> tuple[str, int]:
    """Read the quoted run at ``start``; return its unescaped content and the end index."""
    quote = text[start]
    chars: list[str] = []
    i = start + 1
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in (quote, "\\"):
            chars.append(text[i + 1])
            i += 2
        elif ch == quote:
            if i + 1 < n and text[i + 1] == quote:
                chars.append(quote)
                i += 2
            else:
                return "".join(chars), i + 1
        else:
            chars.append(ch)
            i += 1
    kind = "quoted name" if quote == "`" else "string"
    raise _format_error(text, start, f"unterminated {kind}: no closing {quote}", what)


def _number_value(text: str, pos: int, source: str, what: str) -> int | float:
    """Convert a number token's text to int or float."""
    if any(ch in text for ch in ".eE"):
        return float(text)
    try:
        return int(text)
    except ValueError:  # beyond Python's int-from-string digit limit
        raise _format_error(source, pos, "number has too many digits", what) from None


def _tokenize(text: str, what: str) -> list[_Token]:
    """Split ``text`` into tokens, ending with an ``end`` token at ``len(text)``."""
    tokens: list[_Token] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "'\"":
            value, end = _read_quoted(text, i, what)
            tokens.append(_Token("string", text[i:end], i, value))
            i = end
            continue
        if ch in "-." or "0" <= ch <= "9":
            match = _NUMBER_RE.match(text, i)
            if match:
                raw = match.group()
                tokens.append(_Token("number", raw, i, _number_value(raw, i, text, what)))
                i = match.end()
                continue
        match = _WORD_RE.match(text, i)
        if match:
            word, end = match.group(), match.end()
            if word.endswith(".") and end < n and text[end] in '`"':
                # A quoted key glued to its prefix: metrics.`my metric`, params."lr".
                key, end = _read_quoted(text, end, what)
                tokens.append(_Token("key", text[i:end], i, (word[:-1], key)))
            else:
                tokens.append(_Token("word", word, i))
            i = end
            continue
        if text.startswith(tuple(_TWO_CHAR_OPS), i):
            tokens.append(_Token("op", text[i : i + 2], i))
            i += 2
            continue
        if ch in _ONE_CHAR_OPS:
            tokens.append(_Token("op", ch, i))
            i += 1
            continue
        if ch == "`":
            message = "a backtick-quoted name needs a prefix, e.g. metrics.`my metric`"
        else:
            message = f"unexpected character {ch!r}"
        raise _format_error(text, i, message, what)
    tokens.append(_Token("end", "", n))
    return tokens


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True, slots=True)
class _Identifier:
    """A resolved identifier: which sub-mapping of the record, and which key in it."""

    entity: str
    key: str
    text: str
    pos: int


@dataclass(frozen=True, slots=True)
class _Literal:
    """A string or number literal; ``text`` is its source spelling, quotes included."""

    kind: str  # "string" or "number"
    value: Any
    text: str
    pos: int


class _Parser:
    """Recursive-descent parser over one filter string or order_by clause."""

    def __init__(self, text: str, what: str) -> None:
        self.text = text
        self.what = what
        self.tokens = _tokenize(text, what)
        self.index = 0

    def peek(self) -> _Token:
        """Return the current token without consuming it."""
        return self.tokens[self.index]

    def advance(self) -> _Token:
        """Consume and return the current token (the end token is never passed)."""
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def error(self, pos: int, message: str) -> FilterError:
        """Build an error pointing at ``pos`` in the text being parsed."""
        return _format_error(self.text, pos, message, self.what)

    def found(self, token: _Token) -> str:
        """Describe a token for 'expected X, found Y' messages."""
        if token.kind == "end":
            return f"end of {self.what}"
        # A string token's text already carries its quotes.
        return token.text if token.kind == "string" else f"'{token.text}'"

    # -- filter grammar

    def parse_filter(self) -> _Predicate:
        """Parse a whole filter string and return its predicate."""
        predicate = self.parse_or(0)
        token = self.peek()
        if token.kind == "end":
            return predicate
        if token.is_op(")"):
            raise self.error(token.pos, "unbalanced parentheses: this ')' has no matching '('")
        raise self.error(token.pos, f"expected AND, OR or end of filter, found {self.found(token)}")

    def parse_or(self, depth: int) -> _Predicate:
        """Parse ``and_expr (OR and_expr)*``."""
        predicates = [self.parse_and(depth)]
        while self.peek().is_keyword("OR"):
            self.parse_connector()
            predicates.append(self.parse_and(depth))
        return _any_of(predicates)

    def parse_and(self, depth: int) -> _Predicate:
        """Parse ``primary (AND primary)*``."""
        predicates = [self.parse_primary(depth)]
        while self.peek().is_keyword("AND"):
            self.parse_connector()
            predicates.append(self.parse_primary(depth))
        return _all_of(predicates)

    def parse_connector(self) -> None:
        """Consume AND/OR, refusing one that ends the filter."""
        connector = self.advance()
        if self.peek().kind == "end":
            name = connector.text.upper()
            raise self.error(connector.pos, f"{name} is not followed by a condition")

    def parse_primary(self, depth: int) -> _Predicate:
        """Parse a parenthesised expression or a single comparison."""
        token = self.peek()
        if not token.is_op("("):
            return self.parse_comparison()
        if depth >= _MAX_DEPTH:
            raise self.error(token.pos, f"parentheses nest deeper than {_MAX_DEPTH} levels")
        self.advance()
        predicate = self.parse_or(depth + 1)
        closing = self.peek()
        if closing.is_op(")"):
            self.advance()
            return predicate
        if closing.kind == "end":
            raise self.error(token.pos, "unbalanced parentheses: this '(' is never closed")
        raise self.error(closing.pos, f"expected AND, OR or ')', found {self.found(closing)}")

    def parse_identifier(self) -> _Identifier:
        """Parse ``prefix.key`` or a bare attribute name and resolve it."""
        token = self.advance()
        if token.kind == "key":
            word, quoted_key = token.value
            prefix, _, rest = word.partition(".")
            key = f"{rest}.{quoted_key}" if rest else quoted_key
        elif token.kind == "word" and token.text.upper() not in _KEYWORDS:
            if "." not in token.text:
                return self.resolve_attribute(token.text, token, bare=True)
            prefix, _, key = token.text.partition(".")
        else:
            raise self.error(
                token.pos,
                "expected an identifier such as metrics.rmse, params.lr, tags.team or status, "
                f"found {self.found(token)}",
            )
        entity = _PREFIXES.get(prefix.lower())
        if entity is None:
            raise self.error(
                token.pos,
                f"unknown prefix '{prefix}' in '{token.text}'; "
                "expected metrics., params., tags. or attributes.",
            )
        if not key:
            raise self.error(
                token.pos,
                f"empty key in '{token.text}'; name one, e.g. {prefix}.name or {prefix}.`my name`",
            )
        if entity == ATTRIBUTES:
            return self.resolve_attribute(key, token, bare=False)
        return _Identifier(entity, key, token.text, token.pos)

    def resolve_attribute(self, name: str, token: _Token, *, bare: bool) -> _Identifier:
        """Map an attribute name or alias to its canonical record key."""
        lowered = name.lower()
        canonical = _ATTRIBUTE_ALIASES.get(lowered, lowered)
        if canonical not in _ATTRIBUTES:
            hint = f" (for a metric, param or tag write metrics.{name} etc.)" if bare else ""
            raise self.error(
                token.pos,
                f"unknown attribute '{name}'{hint}; valid attributes: {_VALID_ATTRIBUTES}",
            )
        return _Identifier(ATTRIBUTES, canonical, token.text, token.pos)

    def parse_comparison(self) -> _Predicate:
        """Parse ``identifier comparator [value]`` and compile it."""
        ident = self.parse_identifier()
        token = self.advance()
        if token.kind == "op" and token.text in _ORDERING_OPS:
            return _compile_compare(ident, token.text, self.parse_literal(token), self.error)
        if token.is_keyword("LIKE", "ILIKE"):
            comparator = token.text.upper()
            if ident.entity == METRICS or ident.key in _TIME_ATTRIBUTES:
                raise self.error(
                    token.pos,
                    f"{comparator} needs a string, but {ident.text} is numeric; "
                    "use =, !=, <, <=, >, >= or IN",
                )
            pattern = self.parse_literal(token)
            if pattern.kind != "string":
                raise self.error(
                    pattern.pos,
                    f"{comparator} needs a quoted string pattern, found '{pattern.text}'",
                )
            return _compile_like(ident, pattern.value, case_sensitive=comparator == "LIKE")
        if token.is_keyword("NOT"):
            after = self.advance()
            if not after.is_keyword("IN"):
                raise self.error(after.pos, f"expected IN after NOT, found {self.found(after)}")
            return _negate_present(ident, _compile_in(ident, self.parse_list(after), self.error))
        if token.is_keyword("IN"):
            return _compile_in(ident, self.parse_list(token), self.error)
        if token.is_keyword("IS"):
            after = self.advance()
            negated = after.is_keyword("NOT")
            if negated:
                after = self.advance()
            if not after.is_keyword("NULL"):
                expected = "NULL" if negated else "NULL or NOT NULL"
                raise self.error(
                    after.pos, f"expected {expected} after IS, found {self.found(after)}"
                )
            is_null = _compile_is_null(ident)
            return (lambda record: not is_null(record)) if negated else is_null
        raise self.error(
            token.pos, f"expected a comparator ({_COMPARATORS}), found {self.found(token)}"
        )

    def parse_literal(self, after: _Token) -> _Literal:
        """Parse a quoted string or number that follows the token ``after``."""
        token = self.advance()
        if token.kind in ("string", "number"):
            return _Literal(token.kind, token.value, token.text, token.pos)
        raise self.error(
            token.pos,
            f"expected a value (a quoted string or a number) after '{after.text}', "
            f"found {self.found(token)}",
        )

    def parse_list(self, in_token: _Token) -> list[_Literal]:
        """Parse the ``( literal, ... )`` that follows IN."""
        opening = self.advance()
        if not opening.is_op("("):
            raise self.error(
                opening.pos, f"expected '(' after {in_token.text}, found {self.found(opening)}"
            )
        literals = [self.parse_literal(opening)]
        while True:
            token = self.advance()
            if token.is_op(")"):
                return literals
            if not token.is_op(","):
                raise self.error(
                    token.pos, f"expected ',' or ')' in the IN list, found {self.found(token)}"
                )
            literals.append(self.parse_literal(token))

    # -- order_by grammar

    def parse_order_clause(self) -> OrderKey:
        """Parse ``identifier [ASC|DESC]`` to the end of the clause."""
        ident = self.parse_identifier()
        token = self.advance()
        ascending = True
        if token.is_keyword("ASC", "DESC"):
            ascending = token.text.upper() == "ASC"
            token = self.advance()
        elif token.kind != "end":
            raise self.error(token.pos, f"expected ASC or DESC, found {self.found(token)}")
        if token.kind != "end":
            raise self.error(
                token.pos, f"expected end of order_by clause, found {self.found(token)}"
            )
        return OrderKey(ident.entity, ident.key, ascending)


# --------------------------------------------------------------------------- compiling

_ErrorFactory = Callable[[int, str], FilterError]


def _all_of(predicates: list[_Predicate]) -> _Predicate:
    """Combine predicates with AND, short-circuiting."""
    if len(predicates) == 1:
        return predicates[0]
    if len(predicates) == 2:
        first, second = predicates
        return lambda record: first(record) and second(record)

    def all_match(record: Record) -> bool:
        return all(predicate(record) for predicate in predicates)

    return all_match


def _any_of(predicates: list[_Predicate]) -> _Predicate:
    """Combine predicates with OR, short-circuiting."""
    if len(predicates) == 1:
        return predicates[0]

    def any_match(record: Record) -> bool:
        return any(predicate(record) for predicate in predicates)

    return any_match


def _as_float(value: Any) -> float | None:
    """Return a metric value as float, or None when it is missing or not a number."""
    if value.__class__ is float:
        return value
    if value is None or isinstance(value, str):
        return None
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _param_number(value: Any) -> int | float | None:
    """Return a param value as a number when it is one (bools are not), else None."""
    kind = value.__class__
    if type(value) is int or type(value) is float:  # type(): bools are not numbers
        return value
    if kind is str:
        # Params imported from MLflow are all strings; '10' should still compare as 10.
        return float(value) if _NUMERIC_STRING_RE.fullmatch(value) else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return None


def _int_to_float(value: int | float) -> float:
    """Convert a number literal to float, saturating ints too large for a float."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _param_str(value: Any) -> str:
    """Return the string MLflow would store for a param value."""
    return value if value.__class__ is str else str(value)


def _metric_literal(ident: _Identifier, literal: _Literal, error: _ErrorFactory) -> float:
    """Convert a literal compared with a metric to float."""
    if literal.kind == "number":
        return _int_to_float(literal.value)
    try:
        return float(literal.value)
    except ValueError:
        raise error(
            literal.pos,
            f"{ident.text} compares numerically; expected a number, found {literal.text}",
        ) from None


def _time_literal(ident: _Identifier, literal: _Literal, error: _ErrorFactory) -> int | float:
    """Convert a literal compared with start_time/end_time to milliseconds since the epoch."""
    if literal.kind == "number":
        return cast("int | float", literal.value)
    text = literal.value.strip()
    try:
        if _NUMBER_RE.fullmatch(text):
            return float(text) if any(ch in text for ch in ".eE") else int(text)
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return (moment - _EPOCH) // timedelta(milliseconds=1)
    except (ValueError, OverflowError):
        raise error(
            literal.pos,
            f"{ident.text} needs milliseconds since the epoch or an ISO-8601 date such as "
            f"'2026-11-27T10:00:00Z', found {literal.text}",
        ) from None


def _string_literal(literal: _Literal) -> str:
    """Return the string a tag or string attribute is compared with."""
    # A number keeps the spelling the user typed, so experiment_id = 1 matches '1'.
    return literal.value if literal.kind == "string" else literal.text


def _compile_compare(
    ident: _Identifier, comparator: str, literal: _Literal, error: _ErrorFactory
) -> _Predicate:
    """Compile ``ident <comparator> literal`` for any entity."""
    compare = _ORDERING_OPS[comparator]
    entity, key = ident.entity, ident.key

    if entity == METRICS:
        number = _metric_literal(ident, literal, error)

        def metric_compare(record: Record) -> bool:
            value = _as_float(record.get(METRICS, _EMPTY).get(key))
            # NaN needs no special case: every comparison with it is False except !=.
            return value is not None and compare(value, number)

        return metric_compare

    if entity == PARAMS:
        return _compile_param_compare(key, compare, literal)

    if key in _TIME_ATTRIBUTES:
        moment = _time_literal(ident, literal, error)

        def time_compare(record: Record) -> bool:
            value = record.get(ATTRIBUTES, _EMPTY).get(key)
            if value is None or isinstance(value, bool | str):
                return False
            try:
                return compare(value, moment)
            except TypeError:
                return False

        return time_compare

    text = _string_literal(literal)

    def string_compare(record: Record) -> bool:
        value = record.get(entity, _EMPTY).get(key)
        if value is None:
            return False
        return compare(value if value.__class__ is str else str(value), text)

    return string_compare


def _compile_param_compare(
    key: str, compare: Callable[[Any, Any], bool], literal: _Literal
) -> _Predicate:
    """Compile a param comparison: numeric when both sides are numbers, else as strings."""
    if literal.kind == "string":
        text: str = literal.value

        def param_string_compare(record: Record) -> bool:
            value = record.get(PARAMS, _EMPTY).get(key, _MISSING)
            return value is not _MISSING and compare(_param_str(value), text)

        return param_string_compare

    number, spelling = literal.value, literal.text

    def param_number_compare(record: Record) -> bool:
        value = record.get(PARAMS, _EMPTY).get(key, _MISSING)
        if value is _MISSING:
            return False
        as_number = _param_number(value)
        if as_number is not None:
            return compare(as_number, number)
        return compare(_param_str(value), spelling)

    return param_number_compare


def _like_regex(pattern: str, *, case_sensitive: bool) -> re.Pattern[str]:
    """Translate a SQL LIKE pattern to a regex; every other character is literal."""
    parts = [".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern]
    flags = re.DOTALL if case_sensitive else re.DOTALL | re.IGNORECASE
    return re.compile("".join(parts), flags)


def _compile_like(ident: _Identifier, pattern: str, *, case_sensitive: bool) -> _Predicate:
    """Compile ``ident LIKE/ILIKE pattern`` for params, tags and string attributes."""
    fullmatch = _like_regex(pattern, case_sensitive=case_sensitive).fullmatch
    entity, key = ident.entity, ident.key

    if entity == PARAMS:

        def param_like(record: Record) -> bool:
            value = record.get(PARAMS, _EMPTY).get(key, _MISSING)
            return value is not _MISSING and fullmatch(_param_str(value)) is not None

        return param_like

    def string_like(record: Record) -> bool:
        value = record.get(entity, _EMPTY).get(key)
        return value is not None and fullmatch(_param_str(value)) is not None

    return string_like


def _compile_in(ident: _Identifier, literals: list[_Literal], error: _ErrorFactory) -> _Predicate:
    """Compile ``ident IN (literals)``; NOT IN negates it for runs that have the value."""
    entity, key = ident.entity, ident.key

    if entity == METRICS:
        numbers = frozenset(_metric_literal(ident, lit, error) for lit in literals)

        def metric_in(record: Record) -> bool:
            value = _as_float(record.get(METRICS, _EMPTY).get(key))
            # value == value rules out NaN, which a set lookup could match by identity.
            return value is not None and value == value and value in numbers

        return metric_in

    if entity == PARAMS:
        strings = frozenset(lit.value for lit in literals if lit.kind == "string")
        numbers = frozenset(lit.value for lit in literals if lit.kind == "number")
        spellings = frozenset(lit.text for lit in literals if lit.kind == "number")

        def param_in(record: Record) -> bool:
            value = record.get(PARAMS, _EMPTY).get(key, _MISSING)
            if value is _MISSING:
                return False
            text = _param_str(value)
            if text in strings:
                return True
            as_number = _param_number(value)
            if as_number is None:
                return text in spellings
            return as_number == as_number and as_number in numbers

        return param_in

    if key in _TIME_ATTRIBUTES:
        moments = frozenset(_time_literal(ident, lit, error) for lit in literals)

        def time_in(record: Record) -> bool:
            value = record.get(ATTRIBUTES, _EMPTY).get(key)
            return value is not None and not isinstance(value, str) and value in moments

        return time_in

    texts = frozenset(_string_literal(lit) for lit in literals)

    def string_in(record: Record) -> bool:
        value = record.get(entity, _EMPTY).get(key)
        return value is not None and _param_str(value) in texts

    return string_in


def _compile_is_null(ident: _Identifier) -> _Predicate:
    """Compile ``ident IS NULL``: the key is absent (or None, except for params)."""
    entity, key = ident.entity, ident.key
    if entity == PARAMS:
        return lambda record: key not in record.get(PARAMS, _EMPTY)
    return lambda record: record.get(entity, _EMPTY).get(key) is None


def _negate_present(ident: _Identifier, predicate: _Predicate) -> _Predicate:
    """Negate ``predicate`` for runs that have a value; runs without one still fail."""
    is_null = _compile_is_null(ident)
    return lambda record: not is_null(record) and not predicate(record)


# --------------------------------------------------------------------------- public API


class RunFilter:
    """A parsed filter string; :meth:`matches` tests one record against it.

    Build one with :func:`parse_filter`; it holds compiled closures, so reuse it across
    records rather than re-parsing.
    """

    __slots__ = ("_predicate", "text")

    def __init__(self, text: str, predicate: _Predicate) -> None:
        self.text = text
        self._predicate = predicate

    def matches(self, record: Record) -> bool:
        """Return whether ``record`` satisfies the filter.

        Args:
            record: A mapping with ``attributes``, ``params``, ``metrics`` and ``tags``
                sub-mappings; a missing sub-mapping counts as empty.
        """
        return self._predicate(record)

    def __repr__(self) -> str:
        return f"RunFilter({self.text!r})"


def parse_filter(text: str) -> RunFilter:
    """Parse an MLflow ``search_runs`` filter string.

    Args:
        text: e.g. ``"metrics.rmse < 0.8 AND params.model = 'ridge'"``. An empty or
            all-whitespace string matches every run.

    Returns:
        A :class:`RunFilter` to call ``matches(record)`` on.

    Raises:
        FilterError: The text does not parse, or a literal does not suit what it is
            compared with; the message shows the text with a caret under the token.
    """
    if not text or text.isspace():
        return RunFilter(text, lambda record: True)
    return RunFilter(text, _Parser(text, "filter").parse_filter())


@dataclass(frozen=True, slots=True)
class OrderKey:
    """One parsed ``order_by`` clause.

    Attributes:
        entity: The record sub-mapping: ``metrics``, ``params``, ``tags`` or ``attributes``.
        key: The key within it, with attribute aliases resolved (``created`` → ``start_time``).
        ascending: False for ``DESC``.
    """

    entity: str
    key: str
    ascending: bool = True


def parse_order_by(clauses: Sequence[str] | None) -> list[OrderKey]:
    """Parse ``order_by`` clauses such as ``["metrics.rmse ASC", "params.lr DESC"]``.

    Args:
        clauses: Each clause is ``<identifier> [ASC|DESC]`` with the identifiers of
            :func:`parse_filter`; ASC is the default. None means no ordering; a single
            string is taken as one clause.

    Returns:
        One :class:`OrderKey` per clause, in order.

    Raises:
        FilterError: A clause does not parse; the message points at the offending token.
    """
    if clauses is None:
        return []
    if isinstance(clauses, str):
        clauses = [clauses]
    return [_Parser(clause, "order_by clause").parse_order_clause() for clause in clauses]


def _sort_value(order_key: OrderKey, record: Record) -> Any:
    """Return the value ``record`` sorts by under ``order_key``, or None to sort it last."""
    entity, key = order_key.entity, order_key.key
    if entity == PARAMS:
        value = record.get(PARAMS, _EMPTY).get(key, _MISSING)
        if value is _MISSING:
            return None
        number = _param_number(value)
        if number is None:
            return (1, _param_str(value))
        # Numbers before strings, so mixed-type params still have a total order.
        return None if number != number else (0, number)  # NaN is unequal to itself
    value = record.get(entity, _EMPTY).get(key)
    if value is None:
        return None
    if entity == METRICS or key in _TIME_ATTRIBUTES:
        number = _as_float(value)
        return None if number is None or math.isnan(number) else number
    return _param_str(value)


def sort_records(
    records: Iterable[_R],
    order_by: Sequence[str] | None,
    default: Sequence[str] = _DEFAULT_ORDER,
) -> list[_R]:
    """Return ``records`` sorted as MLflow's ``search_runs`` would sort them.

    Records that lack a key, or hold NaN for it, sort last whichever the direction.
    The sort is stable.

    Args:
        records: Records as described for :meth:`RunFilter.matches`.
        order_by: The user's clauses, most significant first; None for none.
        default: Clauses applied after ``order_by`` as tie-breakers; newest run first,
            then run id, unless overridden.

    Returns:
        A new list; ``records`` is left as it was.

    Raises:
        FilterError: A clause does not parse.
    """
    keys = parse_order_by(order_by) + parse_order_by(default)
    result = list(records)
    # One stable pass per key, least significant first, leaves the most significant
    # key in charge; splitting off missing values per pass keeps them last either way.
    for order_key in reversed(keys):
        present: list[tuple[Any, _R]] = []
        missing: list[_R] = []
        for record in result:
            value = _sort_value(order_key, record)
            if value is None:
                missing.append(record)
            else:
                present.append((value, record))
        present.sort(key=operator.itemgetter(0), reverse=not order_key.ascending)
        result = [record for _, record in present]
        result.extend(missing)
    return result
