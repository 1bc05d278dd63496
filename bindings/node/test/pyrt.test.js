'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const pyrt = require('..');
const peer = require('./peer');

function sameBits(expected, actual, what) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const a = new BigUint64Array(Float64Array.from(actual).buffer);
  const e = new BigUint64Array(Float64Array.from(expected).buffer);
  for (let i = 0; i < e.length; i++) {
    if (a[i] !== e[i]) assert.fail(`${what} differs at bar ${i}: ${actual[i]} vs Python's ${expected[i]}`);
  }
}

function tick(series, bar) {
  return series.map((s) => s[bar]);
}

test('version matches Python', () => {
  const python = execFileSync(peer.python(), ['-c', 'import pyrt; print(pyrt.__version__)'], { encoding: 'utf8', cwd: os.tmpdir() }).trim();
  assert.equal(pyrt.version(), python);
});

test('catalog uses TA-Lib names', () => {
  const macd = pyrt.indicator('MACD');
  assert.deepEqual([...macd.inputs], ['real']);
  assert.deepEqual([...macd.outputs], ['macd', 'macdsignal', 'macdhist']);
  assert.deepEqual(macd.params.map((p) => p.name), ['fastperiod', 'slowperiod', 'signalperiod']);
  assert.ok(pyrt.indicators().length >= 6);
});

test('run equals pyrt.talib bit for bit, every catalog function', () => {
  const ref = peer.loadReference();
  assert.equal(ref.functions.length, pyrt.indicators().length, 'catalog size seen by Python and Node');
  for (const f of ref.functions) {
    for (const r of f.runs) {
      const got = pyrt.run(f.name, ref.series(f.inputs), r.params);
      assert.equal(got.length, r.outputs.length, `${f.name} outputs`);
      got.forEach((out, k) => sameBits(peer.decode(r.outputs[k]), out, `${f.name} ${JSON.stringify(r.params)} output ${k}`));
    }
  }
});

test("Python's saved state resumes in Node with Python's values", () => {
  const ref = peer.loadReference();
  for (const f of ref.functions) {
    assert.equal(f.stream.talib_mismatch, null, `${f.name}: ${f.stream.talib_mismatch}`);
    const s = pyrt.Stream.load(Buffer.from(f.stream.state, 'base64'));
    assert.equal(s.indicator.name, f.name);
    const series = ref.series(f.inputs);
    const got = [];
    for (let k = 0; k < f.stream.ticks; k++) got.push(...s.update(...tick(series, f.stream.history + k)));
    s.close();
    sameBits(peer.decode(f.stream.values), got, `${f.name} resumed in Node`);
  }
});

test("Node's saved state resumes in Python: same bits, TA-Lib's values", () => {
  const ref = peer.loadReference();
  const [history, before, after] = [250, 7, 12];
  const saved = ref.functions.map((f) => {
    const series = ref.series(f.inputs);
    const s = pyrt.Stream.create(f.name, series.map((x) => x.subarray(0, history)));
    for (let k = history; k < history + before; k++) s.update(...tick(series, k));
    const state = s.save();
    const values = [];
    for (let k = history + before; k < history + before + after; k++) values.push(...s.update(...tick(series, k)));
    s.close();
    return { name: f.name, state: state.toString('base64'), start: history + before, values: peer.encode(values) };
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pyrt-node-states-'));
  const file = path.join(dir, 'node-states.json');
  fs.writeFileSync(file, JSON.stringify(saved));
  try {
    const out = peer.run('resume', file);
    assert.match(out, new RegExp(`resumed ${saved.length} states, 0 failures`));
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});

function assertPyrtError(status, mentions, call) {
  assert.throws(call, (e) => {
    assert.ok(e instanceof pyrt.PyrtError, `expected a PyrtError, got ${e}`);
    assert.equal(e.status, status, e.message);
    assert.ok(e.message.length > 0 && e.message.includes(mentions), `message "${e.message}" should mention ${mentions}`);
    return true;
  });
}

test('bad input throws with the core\'s message, never crashes', () => {
  const close = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const S = pyrt.STATUS;
  assertPyrtError(S.NOT_FOUND, 'NOPE', () => pyrt.run('NOPE', [close]));
  assertPyrtError(S.INVALID_ARGUMENT, 'input', () => pyrt.run('SMA', [close, close]));
  assertPyrtError(S.INVALID_ARGUMENT, 'close', () => pyrt.run('ATR', [close, close, close.subarray(0, 9)]));
  assertPyrtError(S.INVALID_ARGUMENT, 'timeperiod', () => pyrt.run('SMA', [close], { timeperiod: 0 }));
  assertPyrtError(S.INVALID_ARGUMENT, 'timeperiod', () => pyrt.run('SMA', [close], { period: 3 }));
  assertPyrtError(S.INVALID_ARGUMENT, 'NUL', () => pyrt.run('SMA\0', [close]));
  assertPyrtError(S.INSUFFICIENT_HISTORY, '', () => pyrt.Stream.create('SMA', [close.subarray(0, 3)]));
  assertPyrtError(S.INVALID_STATE, '', () => pyrt.Stream.load(Buffer.from('not a state')));
  assertPyrtError(S.INVALID_STATE, '', () => pyrt.Stream.load(Buffer.alloc(0)));
  assertPyrtError(S.NOT_FOUND, 'pyrt-node-no-such-ring', () => pyrt.Ring.open('pyrt-node-no-such-ring'));

  const s = pyrt.Stream.create('SMA', [close], { timeperiod: 3 });
  assertPyrtError(S.INVALID_ARGUMENT, '', () => s.update(NaN));
  assertPyrtError(S.INVALID_ARGUMENT, '', () => s.update(1, 2));
  assert.deepEqual(s.update(11), [10], 'the stream is unchanged by refused bars');
  s.close();
  s.close();
  assertPyrtError(S.CLOSED, 'closed', () => s.update(12));
  assertPyrtError(S.CLOSED, 'closed', () => s.save());
});

// Updates from the thread pool (updateAsync) and the main thread on one SMA
// stream: with a history of zeros and ticks of 1.0, the k-th update applied
// gives exactly k/period, so the outputs seen must be 1..n (/period), each once.
test('a stream shared by threads gives a serial order', async () => {
  const period = 2000;
  const s = pyrt.Stream.create('SMA', [new Float64Array(period)], { timeperiod: period });
  const seen = [];
  // In rounds: koffi bounds the asynchronous calls in flight.
  for (let round = 0; round < 50; round++) {
    const pending = [];
    for (let i = 0; i < 20; i++) {
      pending.push(s.updateAsync(1.0).then((out) => seen.push(Math.round(out[0] * period))));
      if (i % 2 === 0) seen.push(Math.round(s.update(1.0)[0] * period));
    }
    await Promise.all(pending);
  }
  seen.sort((a, b) => a - b);
  assert.equal(seen.length, 1500);
  seen.forEach((k, i) => assert.equal(k, i + 1, 'update counts seen'));
  // close while pool threads are inside calls: they finish or fail with CLOSED.
  const racing = [];
  for (let i = 0; i < 32; i++) racing.push(s.updateAsync(1.0).then(() => 'ok', (e) => e));
  s.close();
  for (const r of await Promise.all(racing)) {
    if (r !== 'ok') {
      assert.equal(r.status, pyrt.STATUS.CLOSED, String(r));
      assert.match(r.message, /closed/);
    }
  }
  await assert.rejects(s.updateAsync(1.0), (e) => e.status === pyrt.STATUS.CLOSED && /closed/.test(e.message));
  const t = pyrt.Stream.create('SMA', [new Float64Array(10)], { timeperiod: 3 });
  await assert.rejects(t.updateAsync(NaN), (e) => e.status === pyrt.STATUS.INVALID_ARGUMENT && e.message.length > 0);
  t.close();
});

function seq(i) {
  return { symbolId: i % 1000, price: i * 0.5, volume: (i % 7) + 1, timestampUs: i };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test('a ring created and filled by Python (100,000 records) is read in order', async () => {
  const count = 100000;
  const name = `pyrt-node-ring-${process.pid}`;
  const producer = peer.start('ring-produce', name, String(count), '4096');
  const exited = new Promise((resolve) => producer.on('exit', resolve));
  try {
    await new Promise((resolve, reject) => {
      producer.stdout.once('data', (d) => (String(d).startsWith('ready') ? resolve() : reject(new Error(String(d)))));
      producer.once('exit', (code) => reject(new Error(`producer exited with ${code}`)));
    });
    const ring = pyrt.Ring.open(name);
    let got = 0;
    const deadline = Date.now() + 60000;
    while (got < count) {
      const batch = ring.popBatch(4096);
      for (const r of batch) {
        assert.deepEqual(r, seq(got), `record ${got}`);
        got++;
      }
      if (batch.length === 0) {
        assert.ok(Date.now() < deadline, `only ${got} records arrived`);
        await sleep(1);
      }
    }
    assert.equal(await exited, 0, 'producer exit status');
    assert.equal(ring.popBatch(10).length, 0, 'records after the last one');
    ring.close();
  } finally {
    producer.kill();
    pyrt.Ring.unlink(name);
  }
});

test('ring close is final and idempotent', () => {
  const name = `pyrt-node-close-${process.pid}`;
  const ring = pyrt.Ring.create(name, 64);
  try {
    assert.ok(ring.push(seq(1)));
    ring.close();
    ring.close();
    assertPyrtError(pyrt.STATUS.CLOSED, 'closed', () => ring.popBatch(1));
    assertPyrtError(pyrt.STATUS.CLOSED, 'closed', () => ring.push(seq(2)));
    const again = pyrt.Ring.open(name);
    assert.deepEqual(again.popBatch(4), [seq(1)]);
    again.close();
    assertPyrtError(pyrt.STATUS.INVALID_ARGUMENT, 'NUL', () => pyrt.Ring.create('bad\0name', 64));
  } finally {
    pyrt.Ring.unlink(name);
  }
});
