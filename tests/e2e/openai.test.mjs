// The official `openai` npm client against a moerag server that serves a synthesised
// MoE model: a chat completion, a streamed chat (equal to the same request unstreamed),
// embeddings, the model list, JSON-schema output and OpenAI-shaped errors. The test
// starts its own server (MOERAG_BIN) with --model, so the shared server stays model-free.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';

const bin = process.env.MOERAG_BIN;
let server;
let work;
let client;

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'moerag-openai-'));
  const model = path.join(work, 'm.gguf');
  execFileSync(bin, ['model', 'synth', '--arch', 'qwen2moe', '--layers', '1', '--dim', '64', '--vocab', '400', model]);
  server = spawn(bin, ['serve', '--port', '0', '--data-dir', path.join(work, 'data'), '--model', model],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  const baseURL = await new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${log}`)), 30000);
    const onData = (d) => {
      log += d;
      const m = log.match(/http:\/\/127\.0\.0\.1:\d+\//);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    };
    server.stdout.on('data', onData);
    server.stderr.on('data', onData);
    server.on('exit', (code) => reject(new Error(`server exited (${code}): ${log}`)));
  });
  client = new OpenAI({ baseURL: `${baseURL}v1`, apiKey: 'unused', maxRetries: 0 });
});

after(() => {
  server?.kill();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('lists the loaded model', async () => {
  const models = await client.models.list();
  const ids = models.data.map((m) => m.id);
  assert.ok(ids.includes('synth-qwen2moe'), `models: ${ids}`);
});

test('completes a chat', async () => {
  const r = await client.chat.completions.create({
    model: 'synth-qwen2moe', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hello' }],
    max_tokens: 8, seed: 7,
  });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(typeof r.choices[0].message.content, 'string');
  assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason));
  assert.ok(r.usage.prompt_tokens > 0);
  assert.ok(r.usage.completion_tokens > 0 && r.usage.completion_tokens <= 8);
});

test('streams a chat that equals the same request unstreamed', async () => {
  const req = { model: 'synth-qwen2moe', messages: [{ role: 'user', content: 'tell me about experts' }],
    max_tokens: 16, temperature: 0.8, seed: 42 };
  const whole = await client.chat.completions.create(req);
  const stream = await client.chat.completions.create({ ...req, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let finish = null;
  let chunks = 0;
  let usage = null;
  for await (const chunk of stream) {
    chunks += 1;
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      text += c.delta?.content ?? '';
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  assert.ok(chunks >= 3, `only ${chunks} chunks`);
  assert.equal(text, whole.choices[0].message.content);
  assert.equal(finish, whole.choices[0].finish_reason);
  assert.equal(usage.completion_tokens, whole.usage.completion_tokens);
});

test('gets embeddings', async () => {
  const r = await client.embeddings.create({ model: 'default', input: ['hello world', 'expert routing in moe models'] });
  assert.equal(r.data.length, 2);
  for (const d of r.data) {
    assert.ok(d.embedding.length > 0);
    const norm = Math.sqrt(d.embedding.reduce((s, x) => s + x * x, 0));
    assert.ok(Math.abs(norm - 1) < 1e-3, `norm ${norm}`);
  }
  const f = await client.embeddings.create({ model: 'default', input: 'hello world', encoding_format: 'float' });
  assert.deepEqual(f.data[0].embedding.map((x) => x.toFixed(5)), r.data[0].embedding.map((x) => x.toFixed(5)));
});

test('follows a JSON schema', async () => {
  const r = await client.chat.completions.create({
    model: 'synth-qwen2moe', messages: [{ role: 'user', content: 'json please' }], max_tokens: 64, seed: 3,
    response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: {
      type: 'object', properties: { ok: { type: 'boolean' }, n: { type: 'integer' } }, required: ['ok', 'n'] } } },
  });
  const value = JSON.parse(r.choices[0].message.content);
  assert.equal(typeof value.ok, 'boolean');
  assert.ok(Number.isInteger(value.n));
});

test('reports errors in OpenAI shape', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'x', messages: [] }),
    (e) => e instanceof OpenAI.BadRequestError && e.status === 400 && /messages/.test(e.message),
  );
});
