"""Shrinking SQL text while a predicate still holds (for shrink.py / fuzz_sql.py).

There is no SQL parser in the test environment that speaks both dialects, so this works
on tokens with a little structure: parentheses and CASE ... END are brackets, and inside
each bracket the clause keywords (SELECT, FROM, WHERE, GROUP BY, ..., JOIN, ON, WHEN,
THEN, ELSE) cut the tokens into segments. Candidates are made by
- dropping a clause (WHERE, HAVING, GROUP BY, DISTINCT, LIMIT, OFFSET, ORDER BY when no
  LIMIT depends on it), a join with its ON condition, a CTE, a set-operation branch;
- dropping an element of a comma list (select list, GROUP BY, PARTITION BY, function
  arguments, IN lists, FROM lists) or an operand of AND / OR;
- replacing an expression by a part of it: (x) -> x, f(a, b) -> (a), CAST(x AS t) -> (x),
  CASE ... END -> one branch, a op b -> a or b, NOT x -> x, EXISTS (...) -> TRUE/FALSE,
  anything bracketed -> NULL, a derived table (SELECT * FROM t WHERE ...) s -> t s;
- weakening keywords: LEFT/RIGHT/FULL [OUTER] JOIN -> JOIN, UNION ALL -> UNION,
  and shortening long string literals.
Most candidates are not valid SQL or not valid any more; the caller's predicate (run in
DuckDB first) rejects those cheaply. A candidate is only tried if it is strictly smaller
(fewer tokens, then fewer characters), so reduction always ends.

ORDER BY lists are never edited (the order they define must stay total when LIMIT
follows), ORDER BY is only dropped together with its LIMIT/OFFSET, and nothing inside
OVER (...) or WITHIN GROUP (...) is touched but whole-expression replacements.
"""

from __future__ import annotations

import re
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

TOKEN_RE = re.compile(r"""
 (?P<ws>\s+)
|(?P<str>'(?:[^']|'')*')
|(?P<qid>"(?:[^"]|"")*")
|(?P<num>\d+\.\d*(?:[eE][-+]?\d+)?|\d+(?:[eE][-+]?\d+)?|\.\d+)
|(?P<word>[A-Za-z_][A-Za-z_0-9]*)
|(?P<op><=|>=|<>|!=|\|\||::|[-+*/%<>=(),.;\[\]])
|(?P<other>.)
""", re.X | re.S)

JOIN_WORDS = {"JOIN", "LEFT", "RIGHT", "FULL", "INNER", "CROSS", "OUTER", "NATURAL"}
CLAUSE_WORDS = {"SELECT", "FROM", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "OFFSET", "UNION",
                "INTERSECT", "EXCEPT", "WITH", "ON", "USING", "PARTITION", "ROWS", "RANGE", "WHEN",
                "THEN", "ELSE", "QUALIFY", "WINDOW"} | JOIN_WORDS
# "(" right after these is not a function call.
NOT_FUNCTIONS = {"IN", "EXISTS", "AS", "FROM", "JOIN", "ON", "AND", "OR", "NOT", "WHERE", "SELECT", "THEN",
                 "ELSE", "WHEN", "OVER", "ANY", "ALL", "SOME", "WITH", "HAVING", "BY", "UNION", "INTERSECT",
                 "EXCEPT", "CASE", "IS", "BETWEEN", "LIKE", "ILIKE", "USING", "DISTINCT", "LIMIT", "OFFSET",
                 "FILTER", "GROUP", "INTERVAL", "DATE", "TIMESTAMP", "TIMESTAMPTZ"}
ARITH = {"+", "-", "*", "/", "%", "||"}


def tokenize(sql: str) -> List[str]:
    out = []
    for m in TOKEN_RE.finditer(sql):
        if m.lastgroup != "ws":
            out.append(m.group())
    return out


def _is_word(t: str) -> bool:
    return bool(t) and (t[0].isalpha() or t[0] == "_")


def render(toks: Sequence[str]) -> str:
    out: List[str] = []
    prev = None
    for t in toks:
        if prev is None:
            out.append(t)
        elif t in (")", ",", ".", "]") or prev in ("(", ".", "[") or \
                (t == "(" and _is_word(prev) and prev.upper() not in NOT_FUNCTIONS):
            out.append(t)
        else:
            out.append(" " + t)
        prev = t
    return "".join(out)


def measure(sql: str) -> Tuple[int, int]:
    return (len(tokenize(sql)), len(sql))


class Structure:
    """Brackets of a token list: '(' ... ')' and CASE ... END."""

    def __init__(self, toks: List[str]):
        self.toks = toks
        self.up = [t.upper() for t in toks]
        self.match: Dict[int, int] = {}
        stack: List[int] = []
        for i, u in enumerate(self.up):
            if u == "(" or u == "CASE":
                stack.append(i)
            elif (u == ")" or u == "END") and stack:
                j = stack.pop()
                self.match[j] = i
                self.match[i] = j
        self.groups = [(o, c) for o, c in self.match.items() if o < c]
        self.groups.append((-1, len(toks)))

    def atoms(self, o: int, c: int) -> List[Tuple[int, int]]:
        """The direct children of the bracket (o, c): tokens, and nested brackets as one atom."""
        out = []
        i = o + 1
        while i < c:
            j = self.match.get(i)
            if j is not None and j > i:
                out.append((i, j + 1))
                i = j + 1
            else:
                out.append((i, i + 1))
                i += 1
        return out

    def segments(self, o: int, c: int) -> List[Tuple[str, int, int]]:
        """(keyword, start token, end token) of the clauses directly inside (o, c); the
        leading part before any clause keyword has keyword ''."""
        segs: List[Tuple[str, int, int]] = []
        cur_kw, cur_start = "", o + 1
        prev_join = False
        for s, e in self.atoms(o, c):
            u = self.up[s] if e == s + 1 else ""
            if u in CLAUSE_WORDS:
                if u in JOIN_WORDS and prev_join:
                    continue          # LEFT OUTER JOIN: one clause
                if s > cur_start or cur_kw:
                    segs.append((cur_kw, cur_start, s))
                cur_kw, cur_start = ("JOIN" if u in JOIN_WORDS else u), s
                prev_join = u in JOIN_WORDS
            else:
                prev_join = False
        if c > cur_start or cur_kw:
            segs.append((cur_kw, cur_start, c))
        return segs

    def before(self, i: int) -> str:
        return self.up[i - 1] if i - 1 >= 0 else ""

    def in_protected(self, o: int) -> bool:
        """Inside OVER (...) or WITHIN GROUP (...)."""
        return self.before(o) in ("OVER",) or (self.before(o) == "GROUP" and self.before(o - 1) == "WITHIN")


def _split(atoms: List[Tuple[int, int]], up: List[str], seps: set, between_aware: bool = False):
    """Split atoms at separator tokens: (parts as (start, end) token ranges, separator indexes)."""
    parts, sep_idx = [], []
    start = None
    pending_between = False
    for s, e in atoms:
        u = up[s] if e == s + 1 else ""
        if between_aware and u == "BETWEEN":
            pending_between = True
        if u in seps and not (between_aware and u == "AND" and pending_between):
            parts.append((start, s) if start is not None else (s, s))
            sep_idx.append(s)
            start = None
            continue
        if between_aware and u == "AND" and pending_between:
            pending_between = False
        if start is None:
            start = s
        last_end = e
    if start is not None:
        parts.append((start, last_end))
    elif sep_idx:
        parts.append((sep_idx[-1] + 1, sep_idx[-1] + 1))
    return parts, sep_idx


def candidates(toks: List[str]) -> List[List[str]]:
    st = Structure(toks)
    up = st.up
    out: List[List[str]] = []

    def cut(a: int, b: int, repl: Sequence[str] = ()) -> None:
        out.append(toks[:a] + list(repl) + toks[b:])

    for o, c in st.groups:
        is_case = o >= 0 and up[o] == "CASE"
        protected = o >= 0 and st.in_protected(o)
        segs = st.segments(o, c)
        kws = [k for k, _, _ in segs]
        content_atoms = st.atoms(o, c)
        first = up[o + 1] if o + 1 < c else ""

        # -- whole-bracket replacements --------------------------------------------------
        if o >= 0 and not is_case:
            prev = st.before(o)
            fn = o - 1 if (o >= 1 and _is_word(toks[o - 1]) and prev not in NOT_FUNCTIONS) else None
            start = fn if fn is not None else o
            if prev == "EXISTS":
                s0 = o - 2 if st.before(o - 1) == "NOT" else o - 1
                cut(s0, c + 1, ["TRUE"])
                cut(s0, c + 1, ["FALSE"])
            elif prev not in ("IN", "ANY", "ALL", "SOME", "OVER", "AS", "FROM", "JOIN") and \
                    not (prev == "GROUP" and st.before(o - 1) == "WITHIN"):
                cut(start, c + 1, ["NULL"])
            # (SELECT * FROM t ...) alias -> t alias
            if first == "SELECT" and o + 4 < c and toks[o + 2] == "*" and up[o + 3] == "FROM" and \
                    _is_word(toks[o + 4]) and prev in ("FROM", "JOIN", ","):
                cut(o, c + 1, [toks[o + 4]])
            if fn is None and first not in ("SELECT", "WITH") and prev not in (
                    "IN", "OVER", "AS", "ANY", "ALL", "SOME", "EXISTS", "FROM", "JOIN", "USING") and \
                    not (prev == "GROUP" and st.before(o - 1) == "WITHIN"):
                cut(o, c + 1, toks[o + 1:c])                       # (x) -> x
            if fn is not None and not protected:
                name = up[fn]
                if name in ("CAST", "TRY_CAST"):
                    parts, _ = _split(content_atoms, up, {"AS"})
                    if parts and parts[0][1] > parts[0][0]:
                        cut(fn, c + 1, ["("] + toks[parts[0][0]:parts[0][1]] + [")"])
                elif name == "EXTRACT":
                    parts, _ = _split(content_atoms, up, {"FROM"})
                    if len(parts) == 2:
                        cut(fn, c + 1, ["("] + toks[parts[1][0]:parts[1][1]] + [")"])
                else:
                    parts, _ = _split(content_atoms, up, {","})
                    for a, b in parts:
                        if b > a and up[a] != "DISTINCT":
                            cut(fn, c + 1, ["("] + toks[a:b] + [")"])
                        elif b > a + 1:
                            cut(fn, c + 1, ["("] + toks[a + 1:b] + [")"])
                    if len(parts) > 2 and name in ("COALESCE", "GREATEST", "LEAST", "CONCAT"):
                        for i, (a, b) in enumerate(parts):
                            lo = a if i == 0 else a - 1
                            hi = b + 1 if i == 0 else b
                            cut(lo, hi)
                    if first == "DISTINCT":
                        cut(o + 1, o + 2)                           # count(DISTINCT x) -> count(x)
        if is_case:
            cut(o, c + 1, ["NULL"])
            for k, s, e in segs:
                if k in ("THEN", "ELSE") and e > s + 1:
                    cut(o, c + 1, ["("] + toks[s + 1:e] + [")"])
            whens = [(s, e) for k, s, e in segs if k == "WHEN"]
            thens = [(s, e) for k, s, e in segs if k == "THEN"]
            if len(whens) > 1:
                for (ws, _), (_, te) in zip(whens, thens):
                    cut(ws, te)
            for k, s, e in segs:
                if k == "ELSE":
                    cut(s, e)

        if protected:
            continue

        # -- clauses ----------------------------------------------------------------------
        for idx, (k, s, e) in enumerate(segs):
            if k in ("WHERE", "HAVING", "LIMIT", "OFFSET", "QUALIFY"):
                cut(s, e)
            elif k == "GROUP":
                nxt = segs[idx + 1] if idx + 1 < len(segs) and segs[idx + 1][0] == "HAVING" else None
                cut(s, nxt[2] if nxt else e)
            elif k == "ORDER":
                end = e
                j = idx + 1
                while j < len(segs) and segs[j][0] in ("LIMIT", "OFFSET"):
                    end = segs[j][2]
                    j += 1
                cut(s, end)
            elif k == "SELECT" and s + 1 < e and up[s + 1] == "DISTINCT":
                cut(s + 1, s + 2)
            elif k == "JOIN":
                # the join and its ON / USING condition
                end = e
                if idx + 1 < len(segs) and segs[idx + 1][0] in ("ON", "USING"):
                    end = segs[idx + 1][2]
                if up[s] != "CROSS" and up[s] != "NATURAL":
                    cut(s, end)
                    mods = [i for i in range(s, e) if up[i] in ("LEFT", "RIGHT", "FULL", "INNER", "OUTER")]
                    if mods and up[s] != "JOIN":
                        j = next(i for i in range(s, e) if up[i] == "JOIN")
                        cut(s, j)
                elif up[s] == "CROSS":
                    cut(s, end)
            elif k == "WITH":
                atoms = [a for a in st.atoms(o, c) if s < a[0] < e]
                parts, _ = _split(atoms, up, {","})
                if len(parts) > 1:
                    for i, (a, b) in enumerate(parts):
                        cut(a if i == 0 else a - 1, b + 1 if i == 0 else b)
                else:
                    cut(s, e)

        # set operations: keep one branch (plus the trailing ORDER BY / LIMIT)
        setops = [i for i, (k, _, _) in enumerate(segs) if k in ("UNION", "INTERSECT", "EXCEPT")]
        if setops:
            tail_start = None
            for k, s, e in segs[setops[-1]:]:
                if k in ("ORDER", "LIMIT", "OFFSET") and tail_start is None:
                    tail_start = s
            tail = toks[tail_start:c] if tail_start is not None else []
            bounds = [o + 1] + [segs[i][1] for i in setops] + [tail_start if tail_start is not None else c]
            for bi in range(len(bounds) - 1):
                a, b = bounds[bi], bounds[bi + 1]
                if bi > 0:
                    a += 1
                    while a < b and up[a] in ("ALL", "DISTINCT"):
                        a += 1
                out.append(toks[:o + 1] + toks[a:b] + tail + toks[c:])
            for i in setops:
                s = segs[i][1]
                if s + 1 < c and up[s + 1] == "ALL":
                    cut(s + 1, s + 2)

        # comma lists and AND / OR chains
        for k, s, e in segs:
            if k in ("ORDER", "WITH"):
                continue
            atoms = [a for a in content_atoms if s <= a[0] < e]
            if k:
                atoms = atoms[1:]               # the keyword itself
                while atoms and up[atoms[0][0]] in ("DISTINCT", "BY", "ALL") and atoms[0][1] == atoms[0][0] + 1:
                    atoms = atoms[1:]
            if not atoms:
                continue
            if k in ("SELECT", "GROUP", "PARTITION", "FROM", "") and not is_case:
                parts, _ = _split(atoms, up, {","})
                if len(parts) > 1:
                    for i, (a, b) in enumerate(parts):
                        cut(a if i == 0 else a - 1, b + 1 if i == 0 else b)
            parts, seps = _split(atoms, up, {"AND", "OR"}, between_aware=True)
            if len(parts) > 1:
                for i, (a, b) in enumerate(parts):
                    if i == 0:
                        cut(a, seps[0] + 1)
                    else:
                        cut(seps[i - 1], b)
            # a op b -> a, b (inside brackets only: the generator parenthesizes arithmetic)
            if o >= 0 and not is_case and k == "":
                ops = [a for a in atoms if a[1] == a[0] + 1 and toks[a[0]] in ARITH]
                for (p, _) in ops:
                    if p > atoms[0][0]:
                        cut(atoms[0][0], p + 1)                    # keep the right side
                        cut(p, atoms[-1][1])                       # keep the left side

        # NOT x -> x; IS NOT -> IS; NOT IN / NOT LIKE / NOT EXISTS -> positive
        for a, b in content_atoms:
            if b == a + 1 and up[a] == "NOT":
                cut(a, a + 1)

    # shorter string literals
    for i, t in enumerate(toks):
        if t.startswith("'") and len(t) > 5:
            out.append(toks[:i] + ["''"] + toks[i + 1:])
            out.append(toks[:i] + [t[:2] + "'"] + toks[i + 1:])
    return out


def top_level_ordered(sql: str) -> bool:
    """Whether the statement itself (not a subquery) has an ORDER BY."""
    toks = tokenize(sql)
    st = Structure(toks)
    return any(k == "ORDER" for k, _, _ in st.segments(-1, len(toks)))


def reduce_sql(sql: str, interesting: Callable[[str], bool], deadline: float,
               log: Optional[Callable[[str], None]] = None) -> str:
    """The smallest variant of `sql` found (greedily) for which interesting() holds.

    interesting(sql) is assumed true for `sql` itself."""
    cur = sql
    cur_m = measure(cur)
    tried = set()
    while time.monotonic() < deadline:
        toks = tokenize(cur)
        cands = {}
        for c in candidates(toks):
            text = render(c)
            if text in tried or text in cands:
                continue
            m = measure(text)
            if m < cur_m:
                cands[text] = m
        progressed = False
        for text in sorted(cands, key=lambda t: cands[t]):
            if time.monotonic() >= deadline:
                break
            tried.add(text)
            if interesting(text):
                cur, cur_m = text, cands[text]
                if log:
                    log(f"  sql -> {cur_m[0]} tokens")
                progressed = True
                break
        if not progressed:
            break
    return cur
