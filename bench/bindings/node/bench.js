'use strict';
// Node side of the binding benchmark: each pyrt call against a plain JS
// equivalent in the same process. Prints "name nanoseconds-per-call" lines.
const pyrt = require('../../../bindings/node');

function walk(n) {
  const p = new Float64Array(n);
  let x = 100.0;
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    x += ((s >>> 16) & 0x7fff) / 32768.0 - 0.5;
    p[i] = x;
  }
  return p;
}

// The plain JS SMA (TA-Lib's definition, window 30): a running sum.
function smaLoop(input, out, window) {
  let sum = 0;
  for (let i = 0; i < input.length; i++) {
    sum += input[i];
    if (i >= window) sum -= input[i - window];
    out[i] = i >= window - 1 ? sum / window : NaN;
  }
}

let sink = 0;

// Best round of iters calls, after a warm-up round: the least disturbed by other work.
function best(iters, f) {
  for (let i = 0; i < iters; i++) f();
  let b = Infinity;
  for (let round = 0; round < 5; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) f();
    b = Math.min(b, Number(process.hrtime.bigint() - t0) / iters);
  }
  return b;
}

const out = (name, ns) => console.log(`${name} ${ns.toFixed(1)}`);

const small = walk(1000);
const big = walk(1000000);
const smallOut = new Float64Array(small.length);
const bigOut = new Float64Array(big.length);
out('loop_sma_1k', best(20000, () => smaLoop(small, smallOut, 30)));
out('run_sma_1k', best(20000, () => { sink += pyrt.run('SMA', [small])[0][999]; }));
out('runinto_sma_1k', best(20000, () => { pyrt.run('SMA', [small], null, [smallOut]); }));
out('loop_sma_1m', best(20, () => smaLoop(big, bigOut, 30)));
out('run_sma_1m', best(20, () => { sink += pyrt.run('SMA', [big])[0][999]; }));

out('runinto_sma_1m', best(20, () => { pyrt.run('SMA', [big], null, [bigOut]); }));

const stream = pyrt.Stream.create('SMA', [small]);
let i = 0;
out('update', best(300000, () => { sink += stream.update(100.0 + (++i & 15))[0]; }));
const window = small.slice(970);
let sum = window.reduce((a, b) => a + b, 0);
let pos = 0;
out('loop_update', best(1000000, () => {
  const v = 100.0 + (++i & 15);
  sum += v - window[pos];
  window[pos] = v;
  pos = (pos + 1) % 30;
  sink += sum / 30;
}));
stream.close();

const name = `pyrt-bench-node-${process.pid}`;
const ring = pyrt.Ring.create(name, 8192);
try {
  const recs = Array.from({ length: 4096 }, (_, k) => ({ symbolId: k % 1000, price: k * 0.5, volume: (k % 7) + 1, timestampUs: k }));
  let b = Infinity;
  for (let round = 0; round < 6; round++) {
    let total = 0n;
    for (let it = 0; it < 500; it++) {
      ring.pushBatch(recs);
      const t0 = process.hrtime.bigint();
      const got = ring.popBatch(4096);
      total += process.hrtime.bigint() - t0;
      if (got.length !== 4096) throw new Error(`popped ${got.length}`);
    }
    if (round > 0) b = Math.min(b, Number(total) / 500);
  }
  out('pop_4096', b);
  out('loop_pop_4096', best(500, () => {
    const got = new Array(4096);
    for (let k = 0; k < 4096; k++) {
      const r = recs[k];
      got[k] = { symbolId: r.symbolId, price: r.price, volume: r.volume, timestampUs: r.timestampUs };
    }
    sink += got[4095].price;
  }));
} finally {
  ring.close();
  pyrt.Ring.unlink(name);
}
if (sink === 42) console.log();
