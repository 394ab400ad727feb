"""Deterministic YAML and float text, so that a run's files diff cleanly in review, and
the safe YAML loader every store file is read with (:func:`load_yaml`)."""

from __future__ import annotations

import math
import re
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from runfolio.store import yaml_emit
from runfolio.store.yaml_read import NotSimple, load_simple

try:  # libyaml makes dumping and loading several times faster; PyYAML wheels ship it.
    _Dumper: type[yaml.SafeDumper] = yaml.CSafeDumper  # type: ignore[assignment]
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - pure-Python PyYAML
    _Dumper = yaml.SafeDumper
    _Loader = yaml.SafeLoader

MAX_NESTING = 100
"""Deepest nesting of mappings and lists in a store's YAML file (the top level is 1)."""

MAX_ALIAS_EXPANSION = 100_000
"""How many values YAML aliases may add to a document when expanded ("billion laughs")."""

REPAIR_COMMAND = "runfolio repair"
"""The command that rewrites files :class:`OlderFormError` reports (see :mod:`.repair`)."""

_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
_SURROGATE = re.compile("[\ud800-\udfff]")
# What YAML 1.1 reads as line breaks besides \n and \r; runfolio never writes them raw.
_RAW_BREAK = re.compile("[\x85\u2028\u2029]")
_BREAK_NAMES = {"\x85": "next line", "\u2028": "line separator", "\u2029": "paragraph separator"}
# YAML's limit on an implicit key (and libyaml's): the key's written characters.
_IMPLICIT_KEY_LIMIT = 1024
_PRIVATE_USE = [*range(0xE000, 0xF900), *range(0xF0000, 0xFFFFE)]
_UNREAD = object()


class OlderFormError(yaml.YAMLError):
    """A file in a form earlier runfolio versions wrote, which YAML misreads or refuses.

    That is, raw line separators inside text, or implicit keys over 1,024 characters.
    :func:`load_yaml_as_written` reads such a file as it was meant; ``runfolio repair``
    rewrites it.
    """


def format_float(value: float) -> str:
    """Return the shortest text that reads back as exactly ``value``.

    ``repr`` is already shortest-round-trip; this only spells the non-finite values the
    way :func:`parse_float` (and ``float()``) read them: ``nan``, ``inf``, ``-inf``.
    """
    if math.isfinite(value):
        return repr(value)
    if math.isnan(value):
        return "nan"
    return "inf" if value > 0 else "-inf"


def parse_float(text: str) -> float:
    """Read a float written by :func:`format_float` (``ValueError`` on anything else)."""
    return float(text)


def dump_yaml(data: Any) -> str:
    """Return ``data`` as block-style YAML with sorted keys, UTF-8 text and ``\\n`` endings.

    Floats keep full precision (NaN and infinities as ``.nan``/``.inf``/``-.inf``); strings
    that would read back as another type are quoted, so a load returns equal data.
    """
    try:
        return yaml_emit.dump(data)
    except TypeError:  # a type outside the store's data model: let PyYAML decide
        pass
    text = _pyyaml_dump(data, allow_unicode=True)
    if _RAW_BREAK.search(text):
        # PyYAML writes these raw in multi-line text; readers report a raw one (see
        # load_yaml), so escape every non-ASCII character instead.
        text = _pyyaml_dump(data, allow_unicode=False)
    return text


def _pyyaml_dump(data: Any, *, allow_unicode: bool) -> str:
    """Dump with PyYAML in the store's style."""
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=True,
        default_flow_style=False,
        allow_unicode=allow_unicode,
        width=4096,
        line_break="\n",
    )


def load_yaml(text: str) -> Any:
    """Parse YAML text with the safe loader (no arbitrary Python objects).

    The common shape of store files is read by :mod:`runfolio.store.yaml_read`, several
    times faster; anything else goes to PyYAML, through a loader that also refuses what
    a store file never holds: duplicate keys, ``!!set``/``!!omap``/``!!pairs``, text with
    lone surrogates, nesting deeper than :data:`MAX_NESTING`, recursive aliases and
    aliases that expand by more than :data:`MAX_ALIAS_EXPANSION` values. Both give the
    same data for any file runfolio writes.

    A file in a form earlier runfolio versions wrote, which YAML reads as something else
    or not at all, is refused with :class:`OlderFormError`, whose message says what is
    wrong, where, and that ``runfolio repair`` rewrites the file: a U+2028, U+2029 or
    U+0085 written raw inside text (YAML reads it as a line break, so the text ends
    early or loses it), or a key over YAML's 1,024-character limit.

    Raises:
        yaml.YAMLError: the text is not YAML, or breaks one of those rules; a message
            with a line number when the parser knows one.
    """
    try:
        return load_simple(text)
    except NotSimple:
        pass
    try:
        data = _load_with(_StoreLoader, text)
    except yaml.YAMLError as exc:
        # Cheap gates: only a raw break or an error past column 1024 can be an older form.
        if _RAW_BREAK.search(text) or _past_key_limit(exc):
            mark = getattr(exc, "problem_mark", None)
            _refuse_older_form(text, _UNREAD, mark.line + 1 if mark is not None else 0)
        raise
    if _RAW_BREAK.search(text):
        _refuse_older_form(text, data, 0)
    return data


def load_yaml_as_written(text: str) -> Any:
    """Parse YAML text the way earlier runfolio versions meant it when they wrote it.

    As :func:`load_yaml`, except that U+0085, U+2028 and U+2029 are read as the
    characters themselves (those versions wrote them raw inside blocks of text), and
    implicit keys may be longer than 1,024 characters. ``runfolio repair`` reads files
    with this, then writes them again with :func:`dump_yaml`.

    Raises:
        yaml.YAMLError: the text is not YAML even so.
    """
    swaps = _stand_ins(text)
    for brk, stand_in in swaps.items():
        text = text.replace(brk, stand_in)
    try:
        data = _load_with(_StoreLoader, text)
    except yaml.YAMLError as exc:
        if not _past_key_limit(exc):
            raise
        data = _load_with(_LongKeyLoader, text)  # pure Python, several times slower: rare
    return _swap_back(data, {v: k for k, v in swaps.items()}) if swaps else data


def _stand_ins(text: str) -> dict[str, str]:
    """Pick a private-use character absent from ``text`` for each raw break it holds.

    Raises:
        yaml.YAMLError: the text holds every private-use character (only a hostile
            file does); it is then not read as an older form.
    """
    wanted = [brk for brk in _BREAK_NAMES if brk in text]
    if not wanted:
        return {}
    present = set(text)
    free = (chr(c) for c in _PRIVATE_USE if chr(c) not in present)
    swaps = dict(zip(wanted, free, strict=False))
    if len(swaps) < len(wanted):
        raise yaml.YAMLError("no character is free to stand in for the raw line breaks")
    return swaps


def _past_key_limit(exc: yaml.YAMLError) -> bool:
    """Tell whether a parse failed where a key over YAML's length limit would make it fail."""
    mark = getattr(exc, "problem_mark", None)
    return mark is not None and mark.column >= _IMPLICIT_KEY_LIMIT


def _load_with(loader_class: type[yaml.SafeLoader], text: str) -> Any:
    """Parse ``text`` with one of the store's loader classes."""
    loader = loader_class(text)
    # Without an anchor there is no alias: the graph is a tree, and only its depth counts.
    loader.has_anchors = "&" in text  # type: ignore[attr-defined]
    try:
        return loader.get_single_data()
    except RecursionError as exc:  # only the pure-Python parser recurses this deep
        raise yaml.YAMLError(f"nested deeper than {MAX_NESTING} levels") from exc
    except (ValueError, OverflowError) as exc:  # an integer over 4300 digits, say
        raise yaml.YAMLError(f"unreadable value: {exc}") from exc
    finally:
        loader.dispose()


def _refuse_older_form(text: str, strict: Any, error_line: int) -> None:
    """Raise OlderFormError when the text was meant otherwise than YAML reads it.

    ``strict`` is what :func:`load_yaml` read, or ``_UNREAD`` when it could not read the
    text (then ``error_line`` is where YAML failed, 0 when unknown).
    """
    try:
        meant = load_yaml_as_written(text)
    except yaml.YAMLError:
        return  # not an older form either: YAML's own verdict stands
    if strict is not _UNREAD and _same(strict, meant):
        return  # the raw breaks sit where YAML reads them as themselves too (a comment, say)
    found = _RAW_BREAK.search(text)
    if found:
        char = found.group()
        line = text.count("\n", 0, found.start()) + 1
        what = (
            f"a raw U+{ord(char):04X} ({_BREAK_NAMES[char]}) on line {line}, which YAML reads "
            "as a line break, so the text does not read back as written"
        )
    else:
        what = f"a key on line {error_line} longer than the 1,024 characters YAML allows"
    raise OlderFormError(
        f"{what} (earlier runfolio versions wrote such files); run `{REPAIR_COMMAND}` to rewrite it"
    )


def _swap_back(value: Any, swaps: dict[str, str]) -> Any:
    """Put the raw breaks back in place of their stand-ins, in keys and text."""
    if isinstance(value, str):
        for stand_in, brk in swaps.items():
            value = value.replace(stand_in, brk)
        return value
    if isinstance(value, dict):
        return {_swap_back(k, swaps): _swap_back(v, swaps) for k, v in value.items()}
    if isinstance(value, list):
        return [_swap_back(item, swaps) for item in value]
    return value


def _same(a: Any, b: Any) -> bool:
    """Equal data of equal types, NaN equal to NaN (what two readings of a file must give)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and a != a:
        return bool(b != b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


class _StoreRules:
    """What a store's YAML loader adds to PyYAML's safe loader (see :func:`load_yaml`)."""

    has_anchors = True
    """Whether the text may hold aliases (False only when it has no ``&`` at all)."""

    def construct_document(self, node: Node) -> Any:
        """Check the node graph's depth and expansion before building any Python value."""
        if self.has_anchors:
            _check_graph(node)
        else:
            _check_depth(node)
        return super().construct_document(node)  # type: ignore[misc]

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        """Build a mapping, refusing a key that appears twice (PyYAML keeps the last)."""
        if isinstance(node, MappingNode) and _may_repeat_keys(node):
            seen: set[str] = set()
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG or not isinstance(key_node, ScalarNode):
                    continue  # merged keys may be overridden; collection keys fail below
                # Readers turn every key into text, so 1 and "1" are the same key too.
                text = str(self.construct_object(key_node))  # type: ignore[attr-defined]
                if text in seen:
                    raise ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"found duplicate key {text!r}",
                        key_node.start_mark,
                    )
                seen.add(text)
        return super().construct_mapping(node, deep=deep)  # type: ignore[misc, no-any-return]

    def construct_store_str(self, node: Node) -> str:
        """Text, refusing lone surrogates (from ``\\ud800`` escapes): not encodable as UTF-8."""
        text: str = self.construct_yaml_str(node)  # type: ignore[attr-defined]
        if not text.isascii() and _SURROGATE.search(text):
            raise ConstructorError(
                None,
                None,
                "text holds an invalid Unicode character (a lone surrogate, not UTF-8)",
                node.start_mark,
            )
        return text

    def construct_store_timestamp(self, node: Node) -> Any:
        """A date or time; one that does not exist (``2026-02-30``) is an error."""
        try:
            return self.construct_yaml_timestamp(node)  # type: ignore[attr-defined]
        except (ValueError, OverflowError) as exc:
            raise ConstructorError(
                None, None, f"not a valid date or time {node.value!r}: {exc}", node.start_mark
            ) from exc


def store_loader(base: type[yaml.SafeLoader]) -> type[yaml.SafeLoader]:
    """The store's loader class built on ``base`` (libyaml's safe loader, or PyYAML's own).

    Raises nothing itself; the returned class refuses what :func:`load_yaml` describes.
    """
    loader: type[yaml.SafeLoader] = type("StoreLoader", (_StoreRules, base), {})
    # The stubs cannot see that `loader` mixes _StoreRules into a SafeLoader: [type-var].
    if not issubclass(base, getattr(yaml, "CParser", ())):
        # libyaml refuses an escape of a lone surrogate itself; PyYAML's parser builds it.
        loader.add_constructor(  # type: ignore[type-var]
            "tag:yaml.org,2002:str", _StoreRules.construct_store_str
        )
    loader.add_constructor(  # type: ignore[type-var]
        "tag:yaml.org,2002:timestamp", _StoreRules.construct_store_timestamp
    )
    # Explicit tags only (never resolved implicitly, never written): they would build sets
    # and tuples, which no store field holds. Without a constructor, they are refused.
    for name in ("set", "omap", "pairs"):
        del loader.yaml_constructors[f"tag:yaml.org,2002:{name}"]
    return loader


_StoreLoader = store_loader(_Loader)


class _LongKeyScanner:
    """A scanner that lets an implicit key run past 1,024 characters (on one line)."""

    def stale_possible_simple_keys(self) -> None:
        """PyYAML's rule without the length limit: a key still ends on its own line."""
        keys = self.possible_simple_keys  # type: ignore[attr-defined]
        for level in list(keys):
            key = keys[level]
            if key.line != self.line:  # type: ignore[attr-defined]
                if key.required:
                    raise yaml.scanner.ScannerError(
                        "while scanning a simple key",
                        key.mark,
                        "could not find expected ':'",
                        self.get_mark(),  # type: ignore[attr-defined]
                    )
                del keys[level]


# The pure-Python loader, whose scanner can be told so; used only for older files.
_LongKeyLoader: type[yaml.SafeLoader] = type(
    "LongKeyStoreLoader", (_LongKeyScanner, store_loader(yaml.SafeLoader)), {}
)


def _may_repeat_keys(node: MappingNode) -> bool:
    """Whether a mapping's keys need a closer look: a repeated spelling, a tag, a merge.

    Keys are compared as the text readers turn them into, which is what a closer look
    builds; most mappings have plain, distinct text keys, which cannot collide.
    """
    spellings = set()
    for key_node, _ in node.value:
        if type(key_node) is not ScalarNode or key_node.tag != _STR_TAG:
            return True
        spellings.add(key_node.value)
    return len(spellings) != len(node.value)


def _check_depth(root: Node) -> None:
    """Refuse a tree of nodes (a document without aliases) nested too deep."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            raise ConstructorError(
                None, None, f"nested deeper than {MAX_NESTING} levels", node.start_mark
            )
        stack.extend((c, depth + 1) for c in _children(node) if type(c) is not ScalarNode)


def _children(node: Node) -> list[Node]:
    """The nodes directly inside a collection node (keys and values of a mapping)."""
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return node.value if isinstance(node, SequenceNode) else []


def _check_graph(root: Node) -> None:
    """Refuse a node graph too deep, recursive, or whose aliases expand too far.

    Aliases make one node appear in several places; PyYAML builds it once and shares it,
    but anything that copies or walks the data (every reader does) expands it. The walk
    is iterative and expands each collection once, so it costs little even for hostile
    input; scalars, most of any file, are counted where they stand.
    """
    done: dict[int, tuple[int, int]] = {}  # collection id -> (values when expanded, depth)
    active: set[int] = set()
    met = 0  # values met in each collection's own text: what the document holds unexpanded
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            active.discard(key)
            size, depth = 1, 0
            for child in _children(node):
                if type(child) is ScalarNode:
                    size += 1
                else:
                    child_size, child_depth = done[id(child)]
                    size += child_size
                    depth = max(depth, child_depth)
            if depth + 1 > MAX_NESTING:
                raise ConstructorError(
                    None, None, f"nested deeper than {MAX_NESTING} levels", node.start_mark
                )
            if size > met + 1 + MAX_ALIAS_EXPANSION:
                raise ConstructorError(
                    None,
                    None,
                    f"aliases expand to more than {MAX_ALIAS_EXPANSION:,} values",
                    node.start_mark,
                )
            done[key] = (size, depth + 1)
        elif key in active:
            raise ConstructorError(
                None, None, "an alias refers to a node that contains it", node.start_mark
            )
        elif key not in done and type(node) is not ScalarNode:
            active.add(key)
            stack.append((node, True))
            children = _children(node)
            met += len(children)
            stack.extend((child, False) for child in children if type(child) is not ScalarNode)
