#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (docs/design/fuzzing.md):

  fuzz/sql/corpus/   every statement and query of tests/sql/*.test, one file each (the
                     22 TPC-H queries are seeds too, read from tests/tpch/queries/
                     where they live: scripts/fuzz.sh and the replay test pass that
                     folder as a second corpus)
  fuzz/csv/corpus/   small CSV files (quoting, escapes, CRLF, BOM, every value type,
                     bad rows), each behind the two option bytes fuzz_csv.cc reads
  fuzz/json/corpus/  small JSON-lines files, the same way for fuzz_json.cc
  fuzz/sql/sql.dict  libFuzzer dictionary: SQL keywords, operators, type names and the
                     functions registered in src/sluice/expr/ (-dict=)

    .venv/bin/python fuzz/make_corpus.py       # rewrite the three corpus folders

The folders are committed; rerun this after the SQL tests change (it removes the old
seeds first). Inputs the fuzzer finds go to build/fuzz/corpus/, not here.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from sqllogic import parse_file  # noqa: E402


def reset(folder: Path) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def sql_seeds() -> dict:
    seeds = {}
    for path in sorted((ROOT / "tests" / "sql").glob("*.test")):
        for rec in parse_file(path).records:
            seeds.setdefault(rec.sql.strip() + "\n", f"{path.stem}-{rec.line:04d}.sql")
    return {name: text.encode() for text, name in seeds.items()}


# fuzz_csv option bytes (see fuzz/csv/fuzz_csv.cc): byte 0 bit 0 header, bits 1-2
# delimiter, bits 3-4 quoting, bit 5 explicit schema, bits 6-7 bad-row policy; byte 1
# bits 0-3 first explicit type, 4 common nulls, 5 timestamp_format, 6 tiny buffers,
# 7 projection.
HEADER, SEMI, TAB, PIPE = 1, 2, 4, 6
ESCAPE, SINGLE, NOQUOTE = 8, 16, 24
EXPLICIT, SKIP, REJECT = 32, 64, 128
NULLS, TSFORMAT, TINY, PROJECT = 16, 32, 64, 128

CSV = [
    (HEADER, 0, "a,b,c\n1,2.5,x\n3,,\"y,z\"\n"),
    (HEADER, TINY, "id,name,score\n1,\"Ann \"\"A\"\"\",1.5\n2,Bob,2\n3,\"multi\nline\",3e2\n4,Dee,nan\n"),
    (HEADER | REJECT, TINY, "a,b\n1,2\n3\n4,5,6\nx,\"unterminated\n"),
    (HEADER | SKIP, 0, "i,d\n1,2024-01-31\n2,2024-02-30\n3,not a date\n"),
    (HEADER, 0, "ts,tz\n2024-01-02 03:04:05.123456,2024-01-02T03:04:05Z\n2024-01-02,2024-01-02 10:00:00+05:30\n"),
    (HEADER, 0, "\ufeffb,i,f\r\ntrue,-9223372036854775808,1.7976931348623157e308\r\nFALSE,9223372036854775807,-inf\r\n"),
    (HEADER | SEMI, 0, "a;b\n1;2\n\n3;4\n"),
    (HEADER | TAB, 0, "a\tb\nx y\t1\n"),
    (HEADER | PIPE | ESCAPE, 0, 'a|b\n"x\\"y"|back\\\\slash\n"p|q"|z\\|w\n'),
    (HEADER | SINGLE, 0, "a,b\n'it''s',1\n'x,y',2\n"),
    (HEADER | NOQUOTE, 0, 'a,b\n"x,y"\n"1",2\n'),
    (0, 0, "1,2,3\n4,5,6\n"),
    (HEADER | EXPLICIT, 0, "a,b,c,d,e\n1,2,3,4,5\n-1,1e3,0.01,abc,2024-01-01\n"),
    (HEADER | EXPLICIT, 4, "a,b,c,d,e\n12.345,99999999.99,-0.005,1,1\n,,,,\n"),
    (HEADER | EXPLICIT, 8, "a,b,c,d,e\n2024-01-01,2024-01-01 00:00:01,x,1,true\n"),
    (HEADER | EXPLICIT | REJECT, 12, "a,b,c,d,e,f\n1,2,3,4,5,6\nq,w,e,r,t,y\n"),
    (HEADER, NULLS, "a,b\nNA,1\nNULL,N/A\n#N/A,None\n"),
    (HEADER, TSFORMAT, "d\n31/01/2024 12:00:00\n01/02/2024 00:00:00\n"),
    (HEADER, TSFORMAT | 1, "d\n31/01/2024\n29/02/2023\n"),
    (HEADER, PROJECT, "a,b,c,d\n1,2,3,4\n5,6,7,8\n"),
    (HEADER | REJECT, TINY | PROJECT, "a,b,c\n1,2,3\n\"a\"x,2,3\n4,5,6\n7,8,9\n10,11,12\n"),
    (HEADER, 0, "a,b\nü,€\n"),
    (HEADER, 0, ""),
    (HEADER, 0, "a,,a\n1,2,3\n"),
]

# fuzz_json option bytes (see fuzz/json/fuzz_json.cc): byte 0 bits 0-1 schema mode
# (inferred, explicit, column_types, repeated name), bits 2-3 policy (fail, skip,
# reject, no handler), bit 4 tiny batches, bit 5 projection; byte 1 bits 0-4 first
# explicit type.
INFERRED, JEXPLICIT, COLTYPES, REPEATED = 0, 1, 2, 3
JFAIL, JSKIP, JREJECT, JNONE = 0, 4, 8, 12
JTINY, JPROJECT = 16, 32

JSON = [
    (INFERRED, 0, '{"a": 1, "b": "x", "c": 2.5, "d": true}\n{"a": 2, "b": null, "c": 3, "d": false}\n'),
    (INFERRED | JTINY, 0, '{"d": "2024-01-31", "t": "2024-01-31T12:00:00Z"}\n\n  \n{"d": "2024-02-29", "t": "2024-01-31 12:00:00.123456+05:30"}\r\n'),
    (INFERRED | JREJECT, 0, '{"a": 1}\n[1, 2]\n{"a": "x"}\n{"a": 1,}\nnot json\n{"a": 3}'),
    (INFERRED | JSKIP, 0, '{"n": {"x": [1, {"y": null}]}, "l": [1, 2, 3]}\n{"n": "s", "l": []}\n'),
    (JEXPLICIT, 0, '{"a": 1, "b": 2, "c": 3, "d": 4}\n{"a": -1, "b": 1e3, "c": 0.01, "d": "abc"}\n'),
    (JEXPLICIT | JREJECT, 11, '{"a": "12.345", "b": 99999999.99, "c": -0.005}\n{"a": 1, "b": 1, "c": 1}\n'),
    (JEXPLICIT | JSKIP, 16, '{"a": "2024-01-01", "b": "2024-01-01T00:00:01", "c": 1700000000, "d": "2024-01-01 00:00:00+01:00"}\n'),
    (JEXPLICIT, 5, '{"a": 255, "b": 256, "c": -1, "d": 18446744073709551615, "e": 9223372036854775808}\n'),
    (COLTYPES, 3, '{"a": 1, "extra": "2024-01-01"}\n{"a": 2}\n'),
    (REPEATED, 0, '{"a": 1}\n'),
    (INFERRED | JPROJECT, 0, '{"a": 1, "b": 2, "c": 3, "a": 4}\n{"c": 5, "b": 6, "a": 7}\n'),
    (INFERRED | JNONE, 0, '{"a": 1}\n{"a": \n'),
    (INFERRED, 0, '\ufeff{"s": "esc \\" \\\\ \\n \\u00fc \\ud83d\\ude00"}\n'),
    (INFERRED | JTINY | JREJECT, 0, '{"a": 1}\n{"a": 2}\n{"a": 3.5}\n{"a": "x"}\n{"a": 1e400}\n'),
    (INFERRED, 0, ""),
]


KEYWORDS = """
SELECT FROM WHERE GROUP BY HAVING ORDER ASC DESC NULLS FIRST LAST LIMIT OFFSET DISTINCT ALL
AS ON USING JOIN INNER LEFT RIGHT FULL OUTER CROSS NATURAL LATERAL UNION INTERSECT EXCEPT
WITH RECURSIVE VALUES AND OR NOT IN IS NULL TRUE FALSE BETWEEN SYMMETRIC LIKE ILIKE SIMILAR
ESCAPE EXISTS ANY SOME CASE WHEN THEN ELSE END CAST TRY_CAST INTERVAL DATE TIMESTAMP
TIMESTAMPTZ TIME ZONE AT EXTRACT YEAR MONTH DAY HOUR MINUTE SECOND WEEK QUARTER EPOCH
OVER PARTITION WINDOW ROWS RANGE GROUPS UNBOUNDED PRECEDING FOLLOWING CURRENT ROW FILTER
WITHIN DISTINCT FROM ROLLUP CUBE GROUPING SETS FETCH NEXT ONLY TABLESAMPLE QUALIFY
INTEGER BIGINT SMALLINT TINYINT INT INT2 INT4 INT8 HUGEINT UBIGINT DOUBLE PRECISION REAL
FLOAT DECIMAL NUMERIC VARCHAR TEXT STRING CHAR BOOLEAN BOOL BLOB ARRAY
""".split()

OPERATORS = ["||", "::", "<>", "!=", ">=", "<=", "=>", ":=", "(", ")", ",", ".", "*", "%",
             "/", "'", '"', "--", "/*", "*/", ";", "[", "]", "1e308", "-9223372036854775808",
             "99999999999999999999999999999999999999", "0.0000001", "'1 day'",
             "'2024-02-29'", "'2024-01-31 12:00:00'", "'%'", "'_'", "NaN", "'inf'"]


def sql_dictionary() -> str:
    words = set(KEYWORDS)
    names = set()
    for path in sorted((ROOT / "src" / "sluice" / "expr").glob("*.cc")):
        names.update(re.findall(r'Add\w*\("([a-z_0-9]+)"', path.read_text()))
    for path in sorted((ROOT / "src" / "sluice").rglob("*.cc")):
        names.update(re.findall(r'name == "([a-z_0-9]+)"', path.read_text()))
    lines = ["# SQL keywords, operators and literals, and the function names registered in",
             "# src/sluice/expr (written by fuzz/make_corpus.py)."]
    for w in sorted(words):
        lines.append(f'"{w}"')
    for n in sorted(names):
        lines.append(f'"{n}("')
    for op in OPERATORS:
        lines.append('"' + op.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "\n".join(lines) + "\n"


def reader_seeds(cases, ext: str) -> dict:
    out = {}
    for a, b, text in cases:
        data = bytes([a, b]) + text.encode()
        name = hashlib.sha1(data).hexdigest()[:16] + ext
        out[name] = data
    return out


def main() -> None:
    for target, seeds in (("sql", sql_seeds()), ("csv", reader_seeds(CSV, ".csv")),
                          ("json", reader_seeds(JSON, ".jsonl"))):
        folder = reset(ROOT / "fuzz" / target / "corpus")
        for name, data in sorted(seeds.items()):
            (folder / name).write_bytes(data)
        size = sum(len(d) for d in seeds.values())
        print(f"fuzz/{target}/corpus: {len(seeds)} seeds, {size} bytes")
    (ROOT / "fuzz" / "sql" / "sql.dict").write_text(sql_dictionary())


if __name__ == "__main__":
    main()
