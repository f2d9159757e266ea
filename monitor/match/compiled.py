"""Every watchlist compiled into one matcher: one pass over an item's words finds the
terms of all of them, then only the watchlists with a hit apply their logic.

With 10,000 terms the old way (each watchlist checking each of its terms) cost about
25 ms per item; here the cost grows with the item's words, not with the watchlists:

- every term is a pattern of one automaton (``match.index``): a one-word term as its
  word, a hyphenated one also as its closed form (``cease-fire`` → ``ceasefire``), a
  phrase as its words in order, a prefix ``truc*`` as the beginning of a word;
- a field's words, joined by spaces, are scanned once (in Rust, whatever the number of
  terms), giving the terms that stand there and where;
- the hyphenated runs of the text, closed up, are scanned the same way, so a term
  ``ceasefire`` finds ``cease-fire``;
- the boolean/NEAR rule of each watchlist with a hit (and of the few that can hold
  with no hit at all, such as ``NOT football``) is then evaluated on word positions.

An item in a language with a stemmer is read in that language's stem view instead:
each word stands for its stem and the forms between its stem and itself, and the view's
index holds every leaf (those not stemmed in that language by their words as written,
and the prefixes). Watchlists that transliterate are also read in ASCII letters. Each
view has an index of its own (``match.index``), built in a process the first time an
item needs it; a view never merges or splits words, so positions are the same in all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from monitor.languages import View, ascii_key
from monitor.languages.analyzers import EXACT
from monitor.match.document import Document
from monitor.match.index import Hits, Position, TermIndex
from monitor.match.like import LikeSet
from monitor.match.query import All, AnyOf, Leaf, Near, Node, Not, Scoped
from monitor.match.watchlist import WatchlistSpec
from monitor.models import Match, MatchedTerm

Found = list[tuple[str, str, list[Position]]]  # (term as shown, field, positions)
# Fields read by stems and across scripts; the others (url, lang, feed, tag) as written.
ANALYSED_FIELDS = frozenset({"title", "summary", "fulltext", "author"})


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
        self._id_set = frozenset(self.ids)

    def holds(self, hits: dict[str, Hits], fields: tuple[str, ...]) -> bool:
        # isdisjoint walks the field's few hits in C, whatever the number of leaves; the
        # rules' verdicts are loops, not any()/all(), which make a generator each call.
        for field in fields:  # noqa: SIM110
            if not self._id_set.isdisjoint(hits[field]):
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
        for field in fields:
            field_hits = hits[field]
            # Both sides must stand in the field before any distance is worth measuring.
            if (
                not self.left._id_set.isdisjoint(field_hits)
                and not self.right._id_set.isdisjoint(field_hits)
                and self._pairs(field_hits)
            ):
                return True
        return False

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
        for rule in self.rules:  # noqa: SIM110
            if not rule.holds(hits, fields):
                return False
        return True

    def explain(self, hits: dict[str, Hits], fields: tuple[str, ...]) -> Found:
        return [found for rule in self.rules for found in rule.explain(hits, fields)]


class _Any(_Rule):
    def __init__(self, rules: Sequence[_Rule]) -> None:
        self.rules = tuple(rules)

    def holds(self, hits: dict[str, Hits], fields: tuple[str, ...]) -> bool:
        for rule in self.rules:  # noqa: SIM110
            if rule.holds(hits, fields):
                return True
        return False

    def explain(self, hits: dict[str, Hits], fields: tuple[str, ...]) -> Found:
        # Every part that holds explains the match, not only the first.
        return [
            found
            for rule in self.rules
            if rule.holds(hits, fields)
            for found in rule.explain(hits, fields)
        ]


@dataclass(frozen=True, slots=True)
class _LeafUse:
    """A leaf and how its watchlist reads it: stems of which languages, and across
    scripts or not."""

    leaf: Leaf
    stem: frozenset[str]
    transliterate: bool


class WatchlistSet:
    """All watchlists of one configuration, compiled once; ``match`` gives an item's
    matches in configuration order, each with its terms and their character spans.

    Every term is found as written (folded); a watchlist's terms are also found by
    their stems in an item's language (``stem``), and in ASCII letters across scripts
    (``transliterate``). Each of those views has its own index, built the first time an
    item needs it."""

    def __init__(self, specs: Iterable[WatchlistSpec], likes: LikeSet | None = None) -> None:
        self.specs = tuple(specs)
        self.likes = likes if likes is not None and len(likes) else None
        self._leaf_ids: dict[tuple[object, ...], int] = {}
        self._uses: list[_LeafUse] = []
        self._watchers: dict[int, list[int]] = {}  # leaf id → watchlists that use it
        fields: set[str] = set()
        self._rules: list[_Rule] = []
        for index, spec in enumerate(self.specs):
            used: set[int] = set()
            self._rules.append(self._compile(spec.rule, used, fields, spec))
            fields.update(spec.fields)
            for leaf in used:
                self._watchers.setdefault(leaf, []).append(index)
        self.fields = tuple(sorted(fields))
        self._indexes: dict[View, TermIndex | None] = {EXACT: self._build(EXACT)}
        self._language_views: dict[str | None, list[tuple[View, TermIndex]]] = {}
        self._stemmed = frozenset(
            language for use in self._uses if not _is_exact(use.leaf) for language in use.stem
        )
        self._transliterated = any(use.transliterate for use in self._uses)
        nowhere: dict[str, Hits] = {field: {} for field in self.fields}
        # Rules that hold on an empty text ("NOT football") are checked on every item.
        self._always = [
            index
            for index, rule in enumerate(self._rules)
            if rule.holds(nowhere, self.specs[index].fields)
        ]

    @property
    def names(self) -> tuple[str, ...]:
        """The watchlists' names: those with terms in configuration order, then the
        ``like:`` ones."""
        likes = self.likes.specs if self.likes is not None else ()
        return (*(spec.name for spec in self.specs), *(spec.name for spec in likes))

    def __len__(self) -> int:
        return len(self.specs) + (len(self.likes) if self.likes is not None else 0)

    # -- compiling --------------------------------------------------------------------

    def _leaf(self, leaf: Leaf, used: set[int], spec: WatchlistSpec) -> tuple[str, int]:
        stem = frozenset() if _is_exact(leaf) else spec.stem
        transliterate = spec.transliterate and not _is_exact(leaf)
        if leaf.prefix is not None:
            key: tuple[object, ...] = ("prefix", leaf.prefix, transliterate)
        else:
            assert leaf.term is not None
            term = leaf.term
            key = ("term", term.words, term.closed, term.written, stem, transliterate)
        known = self._leaf_ids.get(key)
        if known is None:
            known = self._leaf_ids[key] = len(self._leaf_ids)
            self._uses.append(_LeafUse(leaf, stem, transliterate))
        used.add(known)
        return leaf.shown, known

    def _build(self, view: View) -> TermIndex | None:
        """The index of one view: the leaves it reads (None when it reads none).

        A stem view stands in for the exact one (every word's reading holds the word as
        written): it holds every leaf, the ones that are not stemmed in its language by
        their words as written, and the prefixes."""
        index = TermIndex()
        for leaf_id, use in enumerate(self._uses):
            if view.ascii and not use.transliterate:
                continue
            leaf = use.leaf
            if leaf.prefix is not None:  # a prefix is of the word as written
                if not view.ascii:
                    index.add_prefix(leaf_id, leaf.prefix)
                elif view.language is None:
                    index.add_prefix(leaf_id, ascii_key(leaf.prefix))
                continue
            assert leaf.term is not None
            if view.language is None or view.language in use.stem:
                index.add_term(leaf_id, leaf.term, view)
            elif not view.ascii:
                index.add_term(leaf_id, leaf.term, EXACT, as_written=True)
        if not (index.forms or index.phrases or index.prefixes):
            return None
        return index.seal()

    def _views(self, language: str | None) -> list[tuple[View, TermIndex]]:
        """The views an item in ``language`` is read in, with their indexes: its stem
        view (standing in for the exact one) or the exact view, and the ASCII views
        (worked out once per language: every field of every item asks)."""
        known = self._language_views.get(language)
        if known is None:
            known = self._language_views[language] = self._views_of(language)
        return known

    def _views_of(self, language: str | None) -> list[tuple[View, TermIndex]]:
        stemmed = language in self._stemmed
        wanted = [View(language) if stemmed else EXACT]
        if self._transliterated:
            wanted.append(View(None, ascii=True))
            if stemmed:
                wanted.append(View(language, ascii=True))
        found = []
        for view in wanted:
            if view not in self._indexes:
                self._indexes[view] = self._build(view)
            index = self._indexes[view]
            if index is not None:
                found.append((view, index))
        return found

    def _terms(self, node: Leaf | AnyOf, used: set[int], spec: WatchlistSpec) -> _Terms:
        leaves = node.leaves if isinstance(node, AnyOf) else (node,)
        return _Terms([self._leaf(leaf, used, spec) for leaf in leaves])

    def _compile(self, node: Node, used: set[int], fields: set[str], spec: WatchlistSpec) -> _Rule:
        if isinstance(node, Leaf | AnyOf):
            return self._terms(node, used, spec)
        if isinstance(node, Near):
            shown = f"{node.left.shown} NEAR/{node.distance} {node.right.shown}"
            left, right = self._terms(node.left, used, spec), self._terms(node.right, used, spec)
            return _Near(left, right, node.distance, shown)
        if isinstance(node, Scoped):
            fields.add(node.field)
            return _Scoped(node.field, self._compile(node.node, used, fields, spec))
        if isinstance(node, Not):
            return _Not(self._compile(node.node, used, fields, spec))
        parts = [self._compile(part, used, fields, spec) for part in node.parts]
        if len(parts) == 1:
            return parts[0]
        if isinstance(node, All):
            return _All(parts)
        terms = [part for part in parts if isinstance(part, _Terms)]
        if len(terms) == len(parts):
            # Any of several terms is one set of leaves: one look per field, not one per
            # term (a list watchlist's ``any:``); it explains the same terms, in order.
            return _Terms([leaf for part in terms for leaf in part.leaves])
        return _Any(parts)

    # -- matching ---------------------------------------------------------------------

    def hits(self, document: Document, field: str) -> Hits:
        """Where each term of any watchlist stands in one field (word positions), in
        every view the document's language is read in."""
        found: Hits = {}
        views = self._views(document.language) if field in ANALYSED_FIELDS else []
        if not views or (views[0][0] == EXACT and len(views) == 1):
            exact = self._indexes[EXACT]
            if exact is not None:
                exact.hits(document.folded(field), found)
            return found
        for view, index in views:
            if view.language is None:
                index.hits(document.viewed(field, view), found)
            else:
                index.stem_hits(view, document, field, found)
        # A word found twice (as written and by its stem, or in two views) is one.
        return {leaf: sorted(set(positions)) for leaf, positions in found.items()}

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
        if self.likes is not None:
            matches += self._like_matches(self.likes, document)
        return matches

    @staticmethod
    def _like_matches(likes: LikeSet, document: Document) -> list[Match]:
        """The ``like:`` watchlists the document is close enough to."""
        found = []
        for spec, likeness in zip(likes.specs, likes.scores(document), strict=True):
            if likeness.close:
                term = MatchedTerm(f"like {likeness.sample} ({likeness.score:.2f})", "like")
                found.append(Match(spec.name, spec.notifiers, (term,)))
        return found


def _is_exact(leaf: Leaf) -> bool:
    return leaf.term is not None and leaf.term.exact
