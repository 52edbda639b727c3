"""Generates pystr-golden.json: JSON values and what CPython's str() makes of them,
as parsed by json.loads (type "any") and as pydantic v2 coerces them for typed fields.
Run with CPython 3 and pydantic 2: python3 gen_pystr_golden.py > pystr-golden.json
The Go test (TestPyStrGolden) checks wire.PyStr against every case."""
import json, random, sys
from pydantic import TypeAdapter

rng = random.Random(20260522)

def rand_float():
    k = rng.randrange(6)
    if k == 0:
        return float(rng.randrange(-10**6, 10**6))
    if k == 1:
        return rng.uniform(-1, 1) * 10 ** rng.randrange(-30, 30)
    if k == 2:
        return rng.choice([0.1, 0.2, 0.3, 1e-4, 9.999e-5, 1e16, 9.999999999999998e15, 1e-05, 123456789.0, 0.5, -0.0, 5e-324, 1.7976931348623157e308])
    if k == 3:
        return rng.random()
    if k == 4:
        return float(rng.randrange(1, 100)) * 10 ** rng.randrange(10, 25)
    return round(rng.uniform(-1000, 1000), rng.randrange(0, 8))

ALPHABET = list("abcXYZ019 '\"\\\t\n\r/") + ["\x00", "\x07", "\x1f", "\x7f", "\x80", "\x9f", "\xa0", "\xad", "é", "ß", "Ω", "€", "中", "文", "\u200b", "\u2028", "\ufeff", "\ufffd", "😀", "𝔘", "\U000f0000", "ǅ", "\u0301", "\u3000"]

def rand_str():
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 8)))

def rand_value(depth=0):
    k = rng.randrange(8 if depth < 3 else 5)
    if k == 0:
        return rng.randrange(-10**20, 10**20) if rng.random() < 0.3 else rng.randrange(-1000, 1000)
    if k == 1:
        return rand_float()
    if k == 2:
        return rand_str()
    if k == 3:
        return rng.choice([True, False, None])
    if k == 4:
        return rand_str()
    if k == 5:
        return [rand_value(depth + 1) for _ in range(rng.randrange(0, 4))]
    if k == 6:
        return {rand_str(): rand_value(depth + 1) for _ in range(rng.randrange(0, 4))}
    return [[rand_value(depth + 2) for _ in range(rng.randrange(0, 3))]]

cases = []
for _ in range(400):
    v = rand_value()
    raw = json.dumps(v, ensure_ascii=rng.random() < 0.5)
    cases.append({"raw": raw, "type": "any", "str": str(json.loads(raw))})

typed = [
    ("float", float, lambda: rng.choice([rng.randrange(-10**18, 10**18), rand_float()])),
    ("int", int, lambda: rng.randrange(-10**18, 10**18)),
    ("list[float]", list[float], lambda: [rng.choice([rng.randrange(-1000, 1000), rand_float()]) for _ in range(rng.randrange(0, 4))]),
    ("dict[str,float]", dict[str, float], lambda: {rand_str(): rng.choice([rng.randrange(-9, 9), rand_float()]) for _ in range(rng.randrange(0, 4))}),
    ("dict[str,int]", dict[str, int], lambda: {rand_str(): rng.randrange(-9, 9) for _ in range(rng.randrange(0, 4))}),
    ("list[str]", list[str], lambda: [rand_str() for _ in range(rng.randrange(0, 4))]),
    ("str", str, rand_str),
]
for name, t, gen in typed:
    ta = TypeAdapter(t)
    for _ in range(60):
        raw = json.dumps(gen())
        cases.append({"raw": raw, "type": name, "str": str(ta.validate_json(raw))})

json.dump({"generator": "gen_pystr_golden.py", "python": sys.version.split()[0], "cases": cases}, sys.stdout, ensure_ascii=False, indent=0)
