"""Deterministic YAML and float text, so that a run's files diff cleanly in review, and
the safe YAML loader every store file is read with (:func:`load_yaml`)."""

from __future__ import annotations

import math
import re
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

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

_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
_SURROGATE = re.compile("[\ud800-\udfff]")


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
    from runfolio.store import yaml_emit

    try:
        return yaml_emit.dump(data)
    except TypeError:  # a type outside the store's data model: let PyYAML decide
        pass
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=True,
        default_flow_style=False,
        allow_unicode=True,
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

    Raises:
        yaml.YAMLError: the text is not YAML, or breaks one of those rules; a message
            with a line number when the parser knows one.
    """
    from runfolio.store.yaml_read import NotSimple, load_simple

    try:
        return load_simple(text)
    except NotSimple:
        pass
    loader = _StoreLoader(text)
    # Without an anchor there is no alias: the graph is a tree, and only its depth counts.
    loader.has_anchors = "&" in text
    try:
        return loader.get_single_data()
    except RecursionError as exc:  # only the pure-Python parser recurses this deep
        raise yaml.YAMLError(f"nested deeper than {MAX_NESTING} levels") from exc
    except (ValueError, OverflowError) as exc:  # an integer over 4300 digits, say
        raise yaml.YAMLError(f"unreadable value: {exc}") from exc
    finally:
        loader.dispose()


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
    if not issubclass(base, getattr(yaml, "CParser", ())):
        # libyaml refuses an escape of a lone surrogate itself; PyYAML's parser builds it.
        loader.add_constructor("tag:yaml.org,2002:str", _StoreRules.construct_store_str)
    loader.add_constructor("tag:yaml.org,2002:timestamp", _StoreRules.construct_store_timestamp)
    # Explicit tags only (never resolved implicitly, never written): they would build sets
    # and tuples, which no store field holds. Without a constructor, they are refused.
    for name in ("set", "omap", "pairs"):
        del loader.yaml_constructors[f"tag:yaml.org,2002:{name}"]
    return loader


_StoreLoader = store_loader(_Loader)


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
    return node.value if isinstance(node, SequenceNode) else []  # type: ignore[no-any-return]


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
