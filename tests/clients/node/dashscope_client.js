#!/usr/bin/env node
// A DashScope try-on client in plain Node.js (standard library only, Node 18+ for global fetch),
// written from the API reference, for the contract-test suite's command adapter:
//
//   node dashscope_client.js [--bug=no-bearer]  < job.json  > outcome.json
//
// It reads one job document (contracts/job.schema.json) on stdin, submits the task, polls it until
// a terminal status and prints one outcome document (contracts/outcome.schema.json) on stdout. It
// exits 0 whenever it printed an outcome, also a "failed" or "error" one.
//
// --bug=no-bearer sends the API key without "Bearer " (a deliberate mistake the suite must catch).
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELED', 'UNKNOWN']);
const ATTEMPTS = 4; // per call, for retryable answers and transport failures
const BUG = (process.argv.find((arg) => arg.startsWith('--bug=')) || '').slice('--bug='.length);

// Which answers are retryable is the vendor's documentation; the contract's error table records it.
// (At submit and query that comes down to: HTTP 429 Throttling*, and the 5xx InternalError,
// SystemError and ModelUnavailable; InternalError.Timeout/.Algo only ever end a task.)
const ERRORS = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', '..', '..', 'contracts', 'dashscope', 'errors.json'), 'utf8'),
).errors;

function retryable(code) {
  const rows = ERRORS.filter((e) => String(e.code) === String(code) || e.message === code);
  return rows.length > 0 && rows.every((e) => e.retryable);
}

class GiveUp extends Error {}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function run(job) {
  const deadline = Date.now() + job.time_budget_seconds * 1000;
  const auth = BUG === 'no-bearer' ? job.credentials.api_key : `Bearer ${job.credentials.api_key}`;

  // Wait, unless that would end past the time budget: then give up.
  async function pause(seconds) {
    if (Date.now() + seconds * 1000 > deadline) throw new GiveUp('time budget spent');
    await sleep(seconds * 1000);
  }

  // One request, retried after job.retry_backoff_seconds * attempt when the answer is retryable or
  // never arrived whole (fetch threw, or a cut connection left a body that is not JSON).
  // Returns {status, body} of the last answer.
  async function call(url, init) {
    for (let attempt = 1; ; attempt++) {
      try {
        const signal = AbortSignal.timeout(Math.max(1, Math.min(10_000, deadline - Date.now())));
        const response = await fetch(url, { ...init, signal });
        const body = JSON.parse(await response.text());
        const again = response.status !== 200 && retryable(body.code);
        if (!again || attempt === ATTEMPTS) return { status: response.status, body };
      } catch (err) {
        if (attempt === ATTEMPTS) throw new GiveUp(`transport: ${err.message}`);
      }
      await pause(job.retry_backoff_seconds * attempt);
    }
  }

  const refused = ({ status, body }) => ({ http_status: status, code: body.code, message: body.message ?? '' });

  const submitted = await call(job.base_url + job.endpoint.path, {
    method: job.endpoint.method,
    headers: { Authorization: auth, 'X-DashScope-Async': 'enable', 'Content-Type': 'application/json' },
    body: JSON.stringify(job.request),
  });
  if (submitted.status !== 200) return { status: 'failed', error: refused(submitted) };
  const taskId = submitted.body.output.task_id;

  for (;;) {
    await pause(job.poll_interval_seconds);
    const answer = await call(`${job.base_url}/tasks/${encodeURIComponent(taskId)}`, {
      headers: { Authorization: auth },
    });
    if (answer.status !== 200) return { status: 'failed', task_id: taskId, error: refused(answer) };
    const output = answer.body.output;
    if (!TERMINAL.has(output.task_status)) continue;
    if (output.task_status === 'SUCCEEDED') {
      // aitryon-refiner: output.image_url now, output.results.image_url in the older reference.
      const url = output.image_url ?? output.results?.image_url;
      return { status: 'succeeded', task_id: taskId, images: [url] };
    }
    const error = { code: output.code ?? output.task_status, message: output.message ?? '' };
    return { status: 'failed', task_id: taskId, error };
  }
}

async function main() {
  const job = JSON.parse(fs.readFileSync(0, 'utf8'));
  let outcome;
  try {
    outcome = await run(job);
  } catch (err) {
    if (!(err instanceof GiveUp)) throw err; // a bug of this client: exit nonzero with the stack
    outcome = { status: 'error', detail: err.message };
  }
  process.stdout.write(JSON.stringify(outcome) + '\n');
}

main().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
