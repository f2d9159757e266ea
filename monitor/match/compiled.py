"""Every watchlist compiled into one matcher: one pass over an item's words finds the
terms of all of them, then only the watchlists with a hit apply their logic.

With 10,000 terms the old way (each watchlist checking each of its terms) cost about
25 ms per item; here the cost grows with the item's words, not with the watchlists:

- every term and phrase is indexed by a one-word form: a one-word term by its word, a
  hyphenated one also by its closed form (``cease-fire`` → ``ceasefire``), a phrase by
  its first word, a prefix ``truc*`` by its stem;
- each distinct word of the text is looked up once (the answer is cached per process:
  news vocabulary repeats), giving the terms that stand there;
- the hyphenated runs of the text, closed up, are looked up the same way, so a term
  ``ceasefire`` finds ``cease-fire``;
- the boolean/NEAR rule of each watchlist with a hit (and of the few that can hold
  with no hit at all, such as ``NOT football``) is then evaluated on word positions.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence

from monitor.match.document import Document
from monitor.match.query import All, AnyOf, Leaf, Near, Node, Not, Scoped
from monitor.match.watchlist import WatchlistSpec
from monitor.models import Match, MatchedTerm

Position = tuple[int, int]  # word positions (first, last) in a field
Hits = dict[int, list[Position]]  # leaf id → where it stands
Found = list[tuple[str, str, list[Position]]]  # (term as shown, field, positions)


class _Rule:
    """A compiled rule: ``holds`` is the verdict on hits (the cheap part, asked of every
    candidate), ``explain`` what made it hold (asked only of a rule that holds)."""

    def holds(self, hits: dict[str, Hits], fields: tuple[str, ...]) -> bool:
        raise NotImplementedError

    def explain(self, hits: dict[str, Hits], fields: tuple[str, ...]) -> Found:
        raise NotImplementedError


class _Terms(_Rule):
    """A leaf, or an alias (any of its leaves): each found leaf, in each field."""

    def __init__(self, leaves: Sequence[tuple[str, int]]) -> None:
        self.leaves = tuple(leaves)
        self.ids = tuple(leaf for _, leaf in self.leaves)

    def holds(self, hits: dict[str, Hits], fields: tuple[str, ...]) -> bool:
        for field in fields:
            field_hits = hits[field]
            for leaf in self.ids:
                if leaf in field_hits:
                    return True
        return False

    def explain(self, hits: dict[str, Hits], fields: tuple[str, ...]) -> Found:
        return [
            (shown, field, positions)
            for shown, leaf in self.leaves
            for field in fields
            if (positions := hits[field].get(leaf))
        ]


class _Near(_Rule):
    def __init__(self, left: _Terms, right: _Terms, distance: int, shown: str) -> None:
        self.left = left
        self.right = right
        self.distance = distance
        self.shown = shown

    def _pairs(self, field_hits: Hits) -> list[Position]:
        lefts = [at for leaf in self.left.ids for at in field_hits.get(leaf, ())]
        if not lefts:
            return []
        rights = [at for leaf in self.right.ids for at in field_hits.get(leaf, ())]
        close: set[Position] = set()
        for left_first, left_last in lefts:
            for right_first, right_last in rights:
                if right_first > left_last:
                    gap = right_first - left_last - 1
                else:
                    gap = left_first - right_last - 1
                if 0 <= gap <= self.distance:
                    close.update(((left_first, left_last), (right_first, right_last)))
        return sorted(close)

    def holds(self, hits: dict[str, Hits], fields: tuple[str, ...]) -> bool:
        return any(self._pairs(hits[field]) for field in fields)

    def explain(self, hits: dict[str, Hits], fields: tuple[str, ...]) -> Found:
        return [
            (self.shown, field, pairs) for field in fields if (pairs := self._pairs(hits[field]))
        ]


class _Scoped(_Rule):
    def __init__(self, field: str, rule: _Rule) -> None:
        self.fields = (field,)
        self.rule = rule

    def holds(self, hits: dict[str, Hits], fields: tuple[str, ...]) -> bool:
        return self.rule.holds(hits, self.fields)

    def explain(self, hits: dict[str, Hits], fields: tuple[str, ...]) -> Found:
        return self.rule.explain(hits, self.fields)


class _Not(_Rule):
    def __init__(self, rule: _Rule) -> None:
        self.rule = rule

    def holds(self, hits: dict[str, Hits], fields: tuple[str, ...]) -> bool:
        return not self.rule.holds(hits, fields)

    def explain(self, hits: dict[str, Hits], fields: tuple[str, ...]) -> Found:
        return []  # a negation that holds found no term


class _All(_Rule):
    def __init__(self, rules: Sequence[_Rule]) -> None:
        self.rules = tuple(rules)

    def holds(self, hits: dict[str, Hits], fields: tuple[str, ...]) -> bool:
        return all(rule.holds(hits, fields) for rule in self.rules)

    def explain(self, hits: dict[str, Hits], fields: tuple[str, ...]) -> Found:
        return [found for rule in self.rules for found in rule.explain(hits, fields)]


class _Any(_Rule):
    def __init__(self, rules: Sequence[_Rule]) -> None:
        self.rules = tuple(rules)

    def holds(self, hits: dict[str, Hits], fields: tuple[str, ...]) -> bool:
        return any(rule.holds(hits, fields) for rule in self.rules)

    def explain(self, hits: dict[str, Hits], fields: tuple[str, ...]) -> Found:
        # Every part that holds explains the match, not only the first.
        return [
            found
            for rule in self.rules
            if rule.holds(hits, fields)
            for found in rule.explain(hits, fields)
        ]


class WatchlistSet:
    """All watchlists of one configuration, compiled once; ``match`` gives an item's
    matches in configuration order, each with its terms and their character spans."""

    def __init__(self, specs: Iterable[WatchlistSpec]) -> None:
        self.specs = tuple(specs)
        self._leaf_ids: dict[tuple[object, ...], int] = {}
        self._forms: dict[str, list[int]] = {}
        self._phrases: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        self._prefixes: dict[str, list[int]] = {}
        self._watchers: dict[int, list[int]] = {}  # leaf id → watchlists that use it
        fields: set[str] = set()
        self._rules: list[_Rule] = []
        for index, spec in enumerate(self.specs):
            used: set[int] = set()
            self._rules.append(self._compile(spec.rule, used, fields))
            fields.update(spec.fields)
            for leaf in used:
                self._watchers.setdefault(leaf, []).append(index)
        self.fields = tuple(sorted(fields))
        self._stem_lengths = tuple(sorted({len(stem) for stem in self._prefixes}))
        # What a word must be, or begin with, to stand for any term at all.
        self._starts = frozenset(self._forms) | frozenset(self._phrases)
        shortest = self._stem_lengths[0] if self._stem_lengths else 0
        self._stem_heads = frozenset(stem[:shortest] for stem in self._prefixes)
        # A word's first letters, as many as the shortest stem has: map() applies it
        # to every word of a text in C, to rule out prefixes before any Python loop.
        self._head = operator.itemgetter(slice(0, shortest))
        nowhere: dict[str, Hits] = {field: {} for field in self.fields}
        # Rules that hold on an empty text ("NOT football") are checked on every item.
        self._always = [
            index
            for index, rule in enumerate(self._rules)
            if rule.holds(nowhere, self.specs[index].fields)
        ]

    @property
    def names(self) -> tuple[str, ...]:
        """The watchlists' names, in configuration order."""
        return tuple(spec.name for spec in self.specs)

    def __len__(self) -> int:
        return len(self.specs)

    # -- compiling --------------------------------------------------------------------

    def _leaf(self, leaf: Leaf, used: set[int]) -> tuple[str, int]:
        if leaf.prefix is not None:
            key: tuple[object, ...] = ("prefix", leaf.prefix)
        else:
            assert leaf.term is not None
            key = ("term", leaf.term.words, leaf.term.closed)
        known = self._leaf_ids.get(key)
        if known is None:
            known = self._leaf_ids[key] = len(self._leaf_ids)
            if leaf.prefix is not None:
                self._prefixes.setdefault(leaf.prefix, []).append(known)
            else:
                assert leaf.term is not None
                for form in leaf.term.single_words:
                    self._forms.setdefault(form, []).append(known)
                if len(leaf.term.words) > 1:
                    first, *rest = leaf.term.words
                    self._phrases.setdefault(first, []).append((known, tuple(rest)))
        used.add(known)
        return leaf.shown, known

    def _terms(self, node: Leaf | AnyOf, used: set[int]) -> _Terms:
        leaves = node.leaves if isinstance(node, AnyOf) else (node,)
        return _Terms([self._leaf(leaf, used) for leaf in leaves])

    def _compile(self, node: Node, used: set[int], fields: set[str]) -> _Rule:
        if isinstance(node, Leaf | AnyOf):
            return self._terms(node, used)
        if isinstance(node, Near):
            shown = f"{node.left.shown} NEAR/{node.distance} {node.right.shown}"
            return _Near(
                self._terms(node.left, used), self._terms(node.right, used), node.distance, shown
            )
        if isinstance(node, Scoped):
            fields.add(node.field)
            return _Scoped(node.field, self._compile(node.node, used, fields))
        if isinstance(node, Not):
            return _Not(self._compile(node.node, used, fields))
        parts = [self._compile(part, used, fields) for part in node.parts]
        return _All(parts) if isinstance(node, All) else _Any(parts)

    # -- matching ---------------------------------------------------------------------

    def _standing(self, distinct: set[str]) -> dict[str, list[int]]:
        """The words of a text that stand for some term, with the leaves that stand on
        each alone: a term's word form, a phrase's first word (no leaf alone), or a word
        that starts with a prefix's stem."""
        forms = self._forms
        # Set operations run in C: most words of most items stand for nothing.
        present = {word: forms.get(word, []) for word in distinct.intersection(self._starts)}
        if self._stem_heads and not self._stem_heads.isdisjoint(map(self._head, distinct)):
            heads = self._stem_heads
            head = self._head
            for word in distinct:
                if head(word) in heads:
                    found: list[int] = []
                    for length in self._stem_lengths:
                        if length > len(word):
                            break
                        found += self._prefixes.get(word[:length], ())
                    if found:
                        present[word] = present.get(word, []) + found
        return present

    def hits(self, document: Document, field: str) -> Hits:
        """Where each term of any watchlist stands in one field (word positions)."""
        folded = document.folded(field)
        words = folded.words
        found: Hits = {}
        present = self._standing(set(words))
        if present:
            phrases = self._phrases
            for at, word in enumerate(words):
                units = present.get(word)
                if units is None:
                    continue
                for leaf in units:
                    found.setdefault(leaf, []).append((at, at))
                for leaf, rest in phrases.get(word, ()):
                    end = at + len(rest)
                    if tuple(words[at + 1 : end + 1]) == rest:
                        found.setdefault(leaf, []).append((at, end))
        if folded.compounds:
            for compound, units in self._standing(set(folded.compounds)).items():
                for leaf in units:
                    found.setdefault(leaf, []).extend(folded.compounds[compound])
        return found

    def match(self, document: Document) -> list[Match]:
        """The watchlists the document satisfies, with what was found and where."""
        hits = {field: self.hits(document, field) for field in self.fields}
        candidates = set(self._always)
        for field_hits in hits.values():
            for leaf in field_hits:
                candidates.update(self._watchers[leaf])
        matches = []
        for index in sorted(candidates):
            spec = self.specs[index]
            rule = self._rules[index]
            if not rule.holds(hits, spec.fields):
                continue
            terms = tuple(
                MatchedTerm(shown, field, tuple(document.char_spans(field, positions)))
                for shown, field, positions in rule.explain(hits, spec.fields)
            )
            matches.append(Match(spec.name, spec.notifiers, terms, spec.follow_ups))
        return matches
