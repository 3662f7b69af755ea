"""Known Sluice bugs the random generator steers around, each with its reproduction.

While a bug is listed here, random_tables and query_generator avoid the values or
constructs that trigger it, so one known bug does not fail dozens of random queries and
hide new ones. The bug itself stays visible: every entry has a failing case in
tests/sql/known_bugs.test. When a bug is fixed, delete its entry here (the
generator then covers the construct again) and move its case to the topical .test file.

Use: `from known_bugs import avoiding` in random_tables/query_generator, and
`if avoiding("name"): <leave the trigger out>`. SLUICE_FUZZ_KNOWN_BUGS=1 ignores this
list (the generator then produces everything).

History: the first fuzzing rounds found 16 bugs (decimal divisors, interval arithmetic,
uint64 beyond int64, integers beyond 2^53 as doubles, -0.0 in IN lists, round() at the
precision limit, unsigned columns against negative literals, avg() precision, strftime
before 1970, ...); all are fixed, and their reproductions now live in the topical
tests/sql/*.test files.
"""

import os

KNOWN_BUGS: dict = {
    # "name": "what goes wrong (and the query in tests/sql/known_bugs.test)",
}


def avoiding(bug: str) -> bool:
    """True while the generator must steer around `bug`."""
    assert bug in KNOWN_BUGS, bug
    return os.environ.get("SLUICE_FUZZ_KNOWN_BUGS", "") in ("", "0")
