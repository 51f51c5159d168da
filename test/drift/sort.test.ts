import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sortFloat64 } from '../../src/drift/sort';
import { mulberry32 } from '../../src/contracts';

describe('sortFloat64 sorts like Float64Array.prototype.sort', () => {
  const r = mulberry32(9);
  const normal = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const cases: Record<string, () => number> = {
    uniform: () => r(),
    'normal, negatives': normal,
    'integers with ties': () => Math.floor(r() * 20),
    'heavy tail': () => 1 / (r() + 1e-12),
    'exponents over 1000 orders of magnitude': () => 2 ** -Math.floor(r() * 1070) * (1 + r()),
    constant: () => 3,
  };
  for (const [name, gen] of Object.entries(cases)) {
    for (const n of [10, 5000, 60_000]) {
      it(`${name}, ${n} values`, () => {
        const a = Float64Array.from({ length: n }, gen);
        assert.deepEqual(Array.from(sortFloat64(a.slice())), Array.from(a.slice().sort()));
      });
    }
  }
  it('infinities and the extreme finite values', () => {
    const a = Float64Array.from({ length: 20_000 }, () => normal() * 1e300);
    a[0] = Infinity;
    a[1] = -Infinity;
    a[2] = Number.MAX_VALUE;
    a[3] = -Number.MAX_VALUE;
    assert.deepEqual(Array.from(sortFloat64(a.slice())), Array.from(a.slice().sort()));
    const finite = a.map((x) => (Number.isFinite(x) ? x : 0));
    assert.deepEqual(Array.from(sortFloat64(finite.slice())), Array.from(finite.slice().sort()));
  });
});
