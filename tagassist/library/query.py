"""The tag-expression language used by search.

Grammar (NOT binds tighter than AND, AND tighter than OR; adjacent terms are ANDed)::

    query   := or_expr EOF
    or_expr := and_expr ("OR" and_expr)*
    and_expr:= not_expr (["AND"] not_expr)*
    not_expr:= "NOT" not_expr | primary
    primary := "(" or_expr ")" | WORD | QUOTED

Keywords are case-insensitive and only special when unquoted; ``"new york"`` is one tag.
Parentheses nest at most :data:`MAX_DEPTH` (50) deep: a deeper search is refused with a
:class:`QuerySyntaxError` saying so, never a ``RecursionError`` (issue 20: 300 nested
parentheses crashed the CLI).  ``NOT NOT ...`` chains are read in a loop: they need no limit.
A term matches tags by normalized name, by (partial or full) ``|`` path, or by alias, and
every descendant of a matched tag (``places`` matches ``places|Europe|Paris``).

The AST compiles to a single parameterized SQL statement built from set operations
(INTERSECT / UNION / EXCEPT over the ``assignments(tag_id, item_id)`` index); user text
only ever travels as bound parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import LibraryError
from .names import SEPARATOR, normalize, split_path

_KEYWORDS = {"AND", "OR", "NOT"}
MAX_DEPTH = 50  # parentheses nested deeper than this are refused (see the module docstring)


class QuerySyntaxError(LibraryError):
    """A malformed search expression; ``position`` is the 0-based character offset."""

    def __init__(self, message: str, query: str, position: int) -> None:
        self.query, self.position, self.reason = query, position, message
        caret = f"\n  {query}\n  {' ' * position}^" if query else ""
        super().__init__(f"Invalid search at position {position}: {message}{caret}")


@dataclass(frozen=True)
class Token:
    kind: str  # 'WORD' | 'QUOTED' | 'AND' | 'OR' | 'NOT' | '(' | ')' | 'EOF'
    value: str
    pos: int


@dataclass(frozen=True)
class Term:
    name: str  # normalized path, e.g. "places|europe"
    pos: int


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


Node = Term | Not | And | Or


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            tokens.append(Token(ch, ch, i))
            i += 1
        elif ch in "\"'":
            end = text.find(ch, i + 1)
            if end < 0:
                raise QuerySyntaxError(f"unterminated quote {ch}", text, i)
            tokens.append(Token("QUOTED", text[i + 1 : end], i))
            i = end + 1
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] not in "()\"'":
                i += 1
            word = text[start:i]
            kind = word.upper() if word.upper() in _KEYWORDS else "WORD"
            tokens.append(Token(kind, word, start))
    tokens.append(Token("EOF", "", n))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0  # parentheses open around the current token

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def _error(self, message: str, tok: Token | None = None) -> QuerySyntaxError:
        return QuerySyntaxError(message, self.text, (tok or self.tok).pos)

    def parse(self) -> Node:
        if self.tok.kind == "EOF":
            raise self._error("empty search expression")
        node = self.or_expr()
        if self.tok.kind == ")":
            raise self._error("unexpected ')' without a matching '('")
        if self.tok.kind != "EOF":  # pragma: no cover - and_expr consumes all terms
            raise self._error(f"unexpected {self.tok.value!r}")
        return node

    def or_expr(self) -> Node:
        children = [self.and_expr()]
        while self.tok.kind == "OR":
            self.i += 1
            children.append(self.and_expr())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def and_expr(self) -> Node:
        children = [self.not_expr()]
        while True:
            if self.tok.kind == "AND":
                self.i += 1
            elif self.tok.kind not in ("WORD", "QUOTED", "NOT", "("):
                break  # no implicit AND before OR, ')' or the end
            children.append(self.not_expr())
        return children[0] if len(children) == 1 else And(tuple(children))

    def not_expr(self) -> Node:
        negated = False
        while self.tok.kind == "NOT":  # a loop, not recursion: NOT NOT ... x has no limit
            self.i += 1
            negated = not negated
        child = self.primary()
        if not negated:
            return child
        return child.child if isinstance(child, Not) else Not(child)

    def primary(self) -> Node:
        tok = self.tok
        if tok.kind == "(":
            if self.depth >= MAX_DEPTH:  # each level costs Python (and SQLite) stack
                raise self._error(f"parentheses nested more than {MAX_DEPTH} deep; "
                                  "write the search with fewer levels", tok)
            self.i += 1
            if self.tok.kind == ")":
                raise self._error("empty parentheses")
            self.depth += 1
            node = self.or_expr()
            self.depth -= 1
            if self.tok.kind != ")":
                raise self._error(f"missing ')' to close the '(' at position {tok.pos}")
            self.i += 1
            return node
        if tok.kind in ("WORD", "QUOTED"):
            self.i += 1
            try:
                name = SEPARATOR.join(normalize(s) for s in split_path(tok.value))
            except LibraryError:
                raise self._error(f"invalid tag name {tok.value!r}", tok) from None
            return Term(name, tok.pos)
        prev = self.tokens[self.i - 1] if self.i else None
        if tok.kind == "EOF":
            after = f" after {prev.value!r}" if prev else ""
            raise self._error(f"expected a tag name{after}, found the end of the search")
        raise self._error(f"expected a tag name, found {tok.value!r}")


def parse(text: str) -> Node:
    """Parse ``text`` into an AST; raise :class:`QuerySyntaxError` on bad input."""
    return _Parser(text).parse()


# --- SQL compilation -----------------------------------------------------------------

_TREE_CTE = (
    "tree(id, npath) AS ("
    "SELECT id, normalized FROM tags WHERE parent_id IS NULL "
    "UNION ALL SELECT t.id, tree.npath || '|' || t.normalized "
    "FROM tags t JOIN tree ON t.parent_id = tree.id)"
)
_ALL_ITEMS = "SELECT id AS item_id FROM items"


class _Compiler:
    def __init__(self, user_id: int | None) -> None:
        self.user_id = user_id
        self.params: dict[str, Any] = {}
        self.ctes: list[str] = [_TREE_CTE]
        self.terms: dict[str, str] = {}  # normalized term -> descendants CTE name

    def _term_cte(self, name: str) -> str:
        if name in self.terms:
            return self.terms[name]
        k = len(self.terms)
        p = f"t{k}"
        self.params[p] = name
        # Match the full path, any path suffix ("europe|paris" or just "paris"), or an alias.
        self.ctes.append(
            f"m{k}(id) AS (SELECT id FROM tree WHERE npath = :{p} "
            f"OR substr(npath, length(npath) - length(:{p})) = '|' || :{p} "
            f"UNION SELECT tag_id FROM tag_aliases WHERE normalized = :{p})"
        )
        self.ctes.append(
            f"d{k}(id) AS (SELECT id FROM m{k} "
            f"UNION SELECT t.id FROM tags t JOIN d{k} ON t.parent_id = d{k}.id)"
        )
        self.terms[name] = f"d{k}"
        return f"d{k}"

    def set_sql(self, node: Node) -> str:
        """SQL for a compound SELECT yielding one column ``item_id`` (maybe with dups)."""
        if isinstance(node, Term):
            cte = self._term_cte(node.name)
            user = " AND user_id = :uid" if self.user_id is not None else ""
            return f"SELECT item_id FROM assignments WHERE tag_id IN (SELECT id FROM {cte}){user}"
        if isinstance(node, Not):
            return f"{_ALL_ITEMS} EXCEPT {self._wrap(node.child)}"
        if isinstance(node, Or):
            return " UNION ".join(self._wrap(c) for c in node.children)
        # AND: intersect the positives first, then subtract each negative; compound
        # operators are left-associative, so "P1 INTERSECT P2 EXCEPT N1" = (P1 & P2) - N1.
        positives = [c for c in node.children if not isinstance(c, Not)]
        negatives = [c.child for c in node.children if isinstance(c, Not)]
        parts = [self._wrap(c) for c in positives] or [_ALL_ITEMS]
        sql = " INTERSECT ".join(parts)
        for neg in negatives:
            sql += f" EXCEPT {self._wrap(neg)}"
        return sql

    def _wrap(self, node: Node) -> str:
        if isinstance(node, Term):
            return self.set_sql(node)  # already a simple SELECT
        return f"SELECT item_id FROM ({self.set_sql(node)})"


def compile_query(node: Node, user_id: int | None = None) -> tuple[str, dict[str, Any]]:
    """Compile an AST to ``(sql, params)`` returning distinct item ids in ascending order."""
    compiler = _Compiler(user_id)
    body = compiler.set_sql(node)
    if user_id is not None:
        compiler.params["uid"] = int(user_id)
    sql = (
        f"WITH RECURSIVE {', '.join(compiler.ctes)} "
        f"SELECT DISTINCT item_id FROM ({body}) ORDER BY item_id"
    )
    return sql, compiler.params
