#!/usr/bin/env python3
"""Writes tests/data/com_rounding.txt: frames whose centre of mass is hard to round, with the
correctly rounded answer computed independently (Python's exact rationals, fractions.Fraction).

Each frame is one row of c + 1 pixels: pixel 0 = a, pixel c = b, the rest 0. Its exact centre of
mass along x is c*b / (a + b); the expected double is that rational rounded once to nearest, ties
to even (float(Fraction) does exactly that). Lines: TYPE A B C EXPECTED_HEX KIND, TYPE u (uint64
pixels) or i (int64: b negative, so the moment is negative), KIND what makes the case hard:
  tie      the exact quotient is a midpoint between two doubles (round half to even decides);
  double   rounding first to a 64-bit significand (x86 long double) then to 53 bits gives the
           other neighbour: the double rounding the kernel must not do;
  near     within a small fraction of an ulp of a midpoint;
  random   anything else.
Deterministic (fixed seed): rerun to regenerate, `python3 tests/com_rounding_table.py > tests/data/com_rounding.txt`.
"""
import random
from fractions import Fraction
import math

U64 = 2**64


def round_to_bits(q: Fraction, bits: int) -> Fraction:
    """q > 0 rounded to `bits` significant bits, ties to even."""
    e = math.floor(math.log2(q.numerator) - math.log2(q.denominator))
    # make sure 2^e <= q < 2^(e+1)
    while Fraction(2) ** e > q:
        e -= 1
    while Fraction(2) ** (e + 1) <= q:
        e += 1
    scale = Fraction(2) ** (bits - 1 - e)
    scaled = q * scale
    n = scaled.numerator // scaled.denominator
    rest = scaled - n
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and n % 2 == 1):
        n += 1
    return n / scale


def correctly_rounded(q: Fraction) -> float:
    return float(q)  # Fraction.__float__: numerator / denominator, correctly rounded


def double_rounded(q: Fraction) -> float:
    sign = -1 if q < 0 else 1
    return sign * float(round_to_bits(abs(q), 64))


def midpoint_distance(q: Fraction) -> Fraction:
    """|q - nearest midpoint between doubles| in ulps of the double near q."""
    d = float(abs(q))
    up = math.nextafter(d, math.inf)
    down = math.nextafter(d, 0.0)
    best = None
    for lo, hi in ((down, d), (d, up)):
        mid = (Fraction(lo) + Fraction(hi)) / 2
        dist = abs(abs(q) - mid) / (Fraction(hi) - Fraction(lo))
        best = dist if best is None or dist < best else best
    return best


def case(kind, typ, a, b, c, out):
    if typ == "u":
        assert 0 <= a < U64 and 0 <= b < U64 and a + b > 0
        q = Fraction(c * b, a + b)
    else:
        assert 0 <= a < 2**63 and -(2**63) <= b < 0 and a + b > 0
        q = Fraction(c * b, a + b)
    expected = correctly_rounded(q)
    out.append(f"{typ} {a} {b} {c} {expected.hex()} {kind}")
    return q


def main():
    rng = random.Random(20261101)
    out = []
    # Exact ties: a + b = 2^64, b with exactly 54 significant bits (its last one set), c = 1.
    for _ in range(40):
        b = (rng.getrandbits(53) | (1 << 52)) * 2 + 1  # 54 bits, odd
        b <<= rng.randrange(0, 10)
        if b >= U64:
            continue
        q = case("tie", "u", U64 - b, b, 1, out)
        assert midpoint_distance(q) == 0
    # Double-rounding cases: searched near midpoints until rounding via 64 bits disagrees.
    found = 0
    while found < 120:
        c = rng.choice([1, 2, 3, 5, 7, 255, 1023, 4095])
        total = rng.randrange(2**62, 2 * U64 - 2)
        d = rng.uniform(0.01, c * 0.99)
        mid = (Fraction(d) + Fraction(math.nextafter(d, math.inf))) / 2
        b0 = (mid * total / c).__floor__()
        for b in (b0 - 1, b0, b0 + 1, b0 + 2):
            a = total - b
            if not (0 <= a < U64 and 0 < b < U64):
                continue
            q = Fraction(c * b, total)
            if double_rounded(q) != correctly_rounded(q):
                case("double", "u", a, b, c, out)
                found += 1
                break
    # Negative moments (int64 pixels): the same search, mirrored.
    found = 0
    while found < 40:
        c = rng.choice([1, 3, 255, 4095])
        total = rng.randrange(2**40, 2**62)
        d = rng.uniform(0.01, c * 0.99)
        mid = (Fraction(d) + Fraction(math.nextafter(d, math.inf))) / 2
        magnitude0 = (mid * total / c).__floor__()
        for m in (magnitude0 - 1, magnitude0, magnitude0 + 1, magnitude0 + 2):
            a = total + m
            b = -m
            if not (0 <= a < 2**63 and -(2**63) <= b < 0):
                continue
            q = Fraction(c * b, total)
            if midpoint_distance(q) < Fraction(1, 2**8):
                case("double" if double_rounded(q) != correctly_rounded(q) else "near", "i", a, b, c, out)
                found += 1
                break
    # Random frames of every size.
    for _ in range(100):
        c = rng.randrange(1, 5000)
        if rng.random() < 0.5:
            a, b = rng.getrandbits(rng.randrange(1, 65)), rng.getrandbits(rng.randrange(1, 65))
            if a + b == 0:
                b = 1
            case("random", "u", a, b, c, out)
        else:
            b = -rng.getrandbits(rng.randrange(1, 62)) - 1
            a = -b + rng.getrandbits(rng.randrange(1, 62)) + 1
            case("random", "i", a, b, c, out)
    print("# generated by tests/com_rounding_table.py: TYPE A B C EXPECTED_HEX KIND (see there)")
    for line in out:
        print(line)


if __name__ == "__main__":
    main()
