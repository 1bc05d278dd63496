'use strict';
// The Python side of the tests: tests/bindings_peer.py of the repository, run
// by PYRT_PYTHON (make sets it to the project's virtualenv), else the
// repository's .venv.
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

function python() {
  if (process.env.PYRT_PYTHON) return process.env.PYRT_PYTHON;
  const venv = path.resolve(__dirname, '../../../.venv/bin/python');
  if (!fs.existsSync(venv)) throw new Error(`no Python with pyrt: set PYRT_PYTHON (tried ${venv})`);
  return venv;
}

const script = path.resolve(__dirname, '../../../tests/bindings_peer.py');

function run(...args) {
  return execFileSync(python(), [script, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function start(...args) {
  return spawn(python(), [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
}

function decode(b64) {
  const bytes = Buffer.from(b64, 'base64');
  const out = new Float64Array(bytes.length / 8);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readDoubleLE(i * 8);
  return out;
}

function encode(values) {
  const bytes = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => bytes.writeDoubleLE(v, i * 8));
  return bytes.toString('base64');
}

let reference = null;

function loadReference() {
  if (reference) return reference;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pyrt-node-reference-'));
  const file = path.join(dir, 'reference.json');
  run('reference', file);
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  fs.rmSync(dir, { recursive: true });
  const walk = {};
  for (const [k, v] of Object.entries(doc.walk)) walk[k] = decode(v);
  reference = { walk, functions: doc.functions, series: (keys) => keys.map((k) => walk[k]) };
  return reference;
}

module.exports = { python, run, start, decode, encode, loadReference, script };
