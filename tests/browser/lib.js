// Shared by the docs tests: argument parsing, a tiny check runner whose
// summary the suite driver counts ("Ran N tests" and "OK" or
// "FAILED (failures=F)", as Python's unittest prints), and the pinned
// playwright-core from tools/.
'use strict';
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');

function requireTool(name) {
  return require(path.join(root, 'tools', 'node_modules', name));
}

// --name value pairs; a repeated name collects an array; --flag alone is true.
function parseArgs(argv, usage) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) usageExit(usage, `unexpected argument ${a}`);
    const key = a.slice(2);
    const val = i + 1 < argv.length && !argv[i + 1].startsWith('--') ? argv[++i] : true;
    if (key in out) out[key] = [].concat(out[key], val);
    else out[key] = val;
  }
  return out;
}

function usageExit(usage, msg) {
  process.stderr.write(`${msg}\nusage: ${usage}\n`);
  process.exit(2);
}

function list(v) {
  return v === undefined ? [] : [].concat(v);
}

class Checks {
  constructor() {
    this.ran = 0;
    this.failed = 0;
  }

  // Runs fn; a throw or a rejected promise is a failure with its message.
  async check(name, fn) {
    this.ran++;
    try {
      await fn();
      console.log(`ok - ${name}`);
      return true;
    } catch (e) {
      this.failed++;
      console.log(`FAIL - ${name}: ${e && e.message ? e.message : e}`);
      return false;
    }
  }

  // Records a failure without running anything (a step that could not start).
  fail(name, why) {
    this.ran++;
    this.failed++;
    console.log(`FAIL - ${name}: ${why}`);
  }

  summary() {
    console.log(`\nRan ${this.ran} tests`);
    console.log(this.failed ? `FAILED (failures=${this.failed})` : 'OK');
    return this.failed === 0 && this.ran > 0;
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

function assertEq(got, want, what) {
  if (got !== want) throw new Error(`${what}: want ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
}

// The operations of an OpenAPI document: [{method, path, operationId}].
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
function specOperations(spec) {
  const ops = [];
  for (const [p, item] of Object.entries(spec.paths || {})) {
    for (const m of METHODS) {
      if (item && item[m]) ops.push({ method: m.toUpperCase(), path: p, operationId: item[m].operationId || '' });
    }
  }
  return ops;
}

module.exports = { root, requireTool, parseArgs, usageExit, list, Checks, assert, assertEq, specOperations };
