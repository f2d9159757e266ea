"""The watchlist query language: parsed once into a syntax tree (errors carry a position).

    (@karabakh OR "nagorno karabakh") AND (ceasefire OR truc*) -football
    title:(withdraw NEAR/3 weapons) lang:en

Terms and ``"phrases"`` match whole folded words exactly as ``any``/``all`` lists do
(case, diacritics, hyphenated = closed forms; in an item whose language has a stemmer,
declined forms too, unless written ``=Karabakh`` or ``="Nagorno Karabakh"``); ``truc*`` is
a prefix; ``NEAR/n`` puts at
most n words between two terms or phrases, in either order; ``AND`` is implicit between
terms; ``NOT``/``-`` negate; ``field:`` scopes what follows to one field. Operators are
upper case: a lower-case ``or`` is a word to find.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from monitor.match.document import Term
from monitor.text import fold

#: Fields a query may scope to; ``summary`` means the summary and the full content,
#: ``feed`` the feed's name, title and URL, ``tag`` the feed's tags.
QUERY_FIELDS = ("title", "summary", "fulltext", "author", "url", "lang", "feed", "tag")
TOKEN = re.compile(
    r"""\s*(?:
        (?P<open>\()|(?P<close>\))
      | (?P<phrase>"[^"]*"?)
      | (?P<near>NEAR/(?P<distance>\d{1,3})(?![\w/]))
      | (?P<word>[^\s()"]+)
    )""",
    re.VERBOSE,
)
MAX_DEPTH = 50


class QueryError(ValueError):
    """A query that cannot be parsed; ``column`` is 1-based, as editors count."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"1:{column}: {message}")
        self.column = column


# -- the syntax tree -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Leaf:
    """A term or phrase (``term``), or a prefix (``prefix``, folded), in some fields."""

    shown: str  # as written, for explanations
    term: Term | None = None
    prefix: str | None = None


@dataclass(frozen=True, slots=True)
class AnyOf:
    """Any of several leaves: an ``@alias``."""

    shown: str
    leaves: tuple[Leaf, ...]


@dataclass(frozen=True, slots=True)
class Near:
    """Two operands with at most ``distance`` words between them, in either order."""

    left: Leaf | AnyOf
    right: Leaf | AnyOf
    distance: int


@dataclass(frozen=True, slots=True)
class Scoped:
    """A subquery searched in one field only."""

    field: str
    node: Node


@dataclass(frozen=True, slots=True)
class Not:
    """True when the subquery is false."""

    node: Node


@dataclass(frozen=True, slots=True)
class All:
    """Every part."""

    parts: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Either:
    """At least one part."""

    parts: tuple[Node, ...]


Node = Leaf | AnyOf | Near | Scoped | Not | All | Either


# -- parsing -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # open, close, phrase, near, word, and, or, not, end
    text: str
    column: int
    distance: int = 0


def _tokens(query: str) -> list[_Token]:
    found: list[_Token] = []
    position = 0
    while position < len(query):
        match = TOKEN.match(query, position)
        if match is None or match.end() == position:
            break
        position = match.end()
        kind = match.lastgroup or ""
        if kind == "distance":
            kind = "near"
        text = match.group(kind)
        column = match.start(kind) + 1
        if kind == "word" and text in ("AND", "OR", "NOT"):
            kind = text.lower()
        distance = int(match.group("distance")) if kind == "near" else 0
        found.append(_Token(kind, text, column, distance))
    found.append(_Token("end", "", len(query) + 1))
    return found


def resolve_aliases(values: Sequence[str], aliases: Mapping[str, Sequence[str]]) -> list[str]:
    """A term list with every ``@name`` replaced by the alias's terms."""
    expanded: list[str] = []
    for value in values:
        name = value.strip()
        if name.startswith("@"):
            if name[1:] not in aliases:
                raise ValueError(f"unknown alias {name}; defined: {_names(aliases)}")
            expanded.extend(aliases[name[1:]])
        else:
            expanded.append(value)
    return expanded


def _names(aliases: Mapping[str, Sequence[str]]) -> str:
    return ", ".join(f"@{name}" for name in sorted(aliases)) or "none"


class _Parser:
    def __init__(self, query: str, aliases: Mapping[str, Sequence[str]]) -> None:
        self.tokens = _tokens(query)
        self.position = 0
        self.aliases = aliases
        self.depth = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.position]

    def advance(self) -> _Token:
        token = self.current
        self.position += 1
        return token

    def fail(self, message: str, token: _Token | None = None) -> QueryError:
        return QueryError(message, (token or self.current).column)

    def _next_kind(self) -> str:
        return self.tokens[self.position + 1].kind if self.current.kind != "end" else "end"

    def parse(self) -> Node:
        if self.current.kind == "end":
            raise self.fail("the query is empty")
        node = self.either()
        if self.current.kind == "close":
            raise self.fail("unmatched ')'")
        if self.current.kind != "end":
            raise self.fail(f"unexpected {self.current.text!r}")
        return node

    def either(self) -> Node:
        parts = [self.all()]
        while self.current.kind == "or":
            self.advance()
            parts.append(self.all())
        return parts[0] if len(parts) == 1 else Either(tuple(parts))

    def all(self) -> Node:
        parts = [self.unary()]
        while self.current.kind not in ("or", "close", "end"):
            if self.current.kind == "and":
                self.advance()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else All(tuple(parts))

    def unary(self) -> Node:
        token = self.current
        if token.kind == "not":
            self.advance()
            return Not(self.unary())
        following = self.tokens[self.position + 1].kind if token.kind != "end" else "end"
        if token.kind == "word" and token.text == "-" and following in ("open", "phrase"):
            self.advance()  # "-(a OR b)", '-"a b"'
            return Not(self.unary())
        if token.kind == "word" and token.text.startswith("-") and len(token.text) > 1:
            # "-football": split the minus from the word it negates.
            self.tokens[self.position] = _Token("word", token.text[1:], token.column + 1)
            return Not(self.unary())
        return self.near()

    def near(self) -> Node:
        left = self.primary()
        while self.current.kind == "near":
            token = self.advance()
            right = self.primary()
            if not isinstance(left, Leaf | AnyOf) or not isinstance(right, Leaf | AnyOf):
                raise self.fail("NEAR joins two terms, phrases, prefixes or aliases", token)
            left = Near(left, right, token.distance)
        return left

    def primary(self) -> Node:
        token = self.current
        if token.kind == "open":
            self.advance()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.fail(f"more than {MAX_DEPTH} nested parentheses")
            if self.current.kind == "close":
                raise self.fail("empty parentheses")
            node = self.either()
            if self.current.kind != "close":
                raise self.fail("expected ')'")
            self.advance()
            self.depth -= 1
            return node
        if token.kind == "phrase":
            self.advance()
            if len(token.text) < 2 or not token.text.endswith('"'):
                raise self.fail("unclosed quote", token)
            return self._leaf(token.text, token)
        if token.kind == "word" and token.text == "=" and self._next_kind() == "phrase":
            self.advance()  # ="Nagorno Karabakh": an exact phrase
            phrase = self.advance()
            if len(phrase.text) < 2 or not phrase.text.endswith('"'):
                raise self.fail("unclosed quote", phrase)
            return self._leaf("=" + phrase.text, token)
        if token.kind == "word":
            return self._word(self.advance())
        if token.kind == "end":
            raise self.fail("the query ends where a term was expected")
        raise self.fail(f"expected a term, not {token.text!r}")

    def _word(self, token: _Token) -> Node:
        text = token.text
        if text == "NEAR" or text.startswith("NEAR/"):
            # Upper case is the operator, as AND, OR and NOT are: a NEAR without a valid
            # distance is a mistake, not a search for the word "near".
            raise self.fail(
                "NEAR needs a distance in words, as in NEAR/3 (0 to 999);"
                ' to search the word, write it in lower case or in quotes: "near"',
                token,
            )
        field, colon, rest = text.partition(":")
        if colon and field.isalpha() and field.islower():
            if field not in QUERY_FIELDS:
                raise self.fail(
                    f"unknown field {field!r}; fields: {', '.join(QUERY_FIELDS)}", token
                )
            column = token.column + len(field) + 1
            if rest:
                self.tokens.insert(self.position, _Token("word", rest, column))
            return Scoped(field, self.primary())
        if text.startswith("@"):
            name = text[1:]
            if name not in self.aliases:
                raise self.fail(f"unknown alias {text}; defined: {_names(self.aliases)}", token)
            leaves = tuple(self._leaf(value, token) for value in self.aliases[name])
            return AnyOf(text, tuple(leaf for leaf in leaves if isinstance(leaf, Leaf)))
        return self._leaf(text, token)

    def _leaf(self, text: str, token: _Token) -> Leaf:
        if text.endswith("*") and not text.startswith('"'):
            stem = fold(text[:-1])
            if len(stem) < 3 or not stem.isalnum():
                raise self.fail("a prefix needs at least 3 letters or digits before '*'", token)
            return Leaf(text, prefix=stem)
        term = Term.parse(text)
        if not term.words:
            raise self.fail(f"{text!r} has no letters or digits to match", token)
        return Leaf(term.text, term=term)


def parse_query(query: str, aliases: Mapping[str, Sequence[str]] | None = None) -> Node:
    """The syntax tree of a query; QueryError (with its column) when it is not valid."""
    return _Parser(query, aliases or {}).parse()
