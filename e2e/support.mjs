// What the end-to-end tests share: a demo server on a fresh database, a headless Chromium,
// and signing in through the web UI.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const START_TIMEOUT_MS = 120_000;
const ROLES = ['admin', 'manager', 'rep', 'viewer'];

/**
 * Starts `pipewise demo` (the binary in $PIPEWISE_BIN, else target/debug/pipewise) on a new
 * SQLite database in a temporary directory, and resolves once it serves and its analytics
 * are built:
 * `{ base, workspace, password, users: { admin, manager, rep, viewer }, stop() }`, where
 * `base` is `http://HOST:PORT` without a trailing slash, each user is `{ name, email }`, and
 * `stop()` ends the server and deletes the directory.
 */
export async function startDemo() {
  const bin = process.env.PIPEWISE_BIN
    ? resolve(process.env.PIPEWISE_BIN)
    : join(repoRoot, 'target/debug/pipewise');
  if (!existsSync(bin)) {
    throw new Error(
      `no pipewise binary at ${bin}: build it with \`cargo build -p pipewise\` or set PIPEWISE_BIN`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'pipewise-e2e-'));
  const child = spawn(
    bin,
    ['demo', '--database-url', `sqlite://${dir}/demo.db`, '--bind', '127.0.0.1:0',
      '--opportunities', '400'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' } },
  );
  // Should the test process die without calling stop(), the server must not outlive it.
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);

  // The last 20 kB the server printed, for error messages. Both pipes are read until the end: a
  // pipe nobody reads fills up and blocks the server's next write.
  let output = '';
  const keep = (text) => {
    output = (output + text).slice(-20_000);
  };
  child.stderr.setEncoding('utf8').on('data', keep);
  // 'error' instead of 'exit' when the binary could not be run at all.
  const exited = new Promise((done) => child.once('exit', done).once('error', done));

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    process.off('exit', killOnExit);
    await rm(dir, { recursive: true, force: true });
  };

  const server = { base: null, workspace: null, password: null, users: {}, stop };
  try {
    await new Promise((ready, fail) => {
      const failWith = (why) => fail(new Error(`${why}\n--- pipewise demo printed:\n${output}`));
      const timer = setTimeout(
        () => failWith(`pipewise demo did not finish starting (serving, analytics ready) within ${START_TIMEOUT_MS / 1000} s`),
        START_TIMEOUT_MS,
      );
      child.once('error', (error) => {
        clearTimeout(timer);
        failWith(`cannot run ${bin}: ${error.message}`);
      });
      // 'close' rather than 'exit': by then its last lines have been read too.
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        failWith(`pipewise demo exited (${signal ?? `code ${code}`}) before it was ready`);
      });
      let signInLines = false;
      createInterface({ input: child.stdout }).on('line', (line) => {
        keep(`${line}\n`);
        let match;
        if ((match = line.match(/^Sign in to workspace `([^`]+)` with password `([^`]+)` as:$/))) {
          [, server.workspace, server.password] = match;
          signInLines = true;
        } else if (signInLines && (match = line.match(/^ +(\w+) +(.+?) <([^>]+)>$/))) {
          server.users[match[1]] = { name: match[2], email: match[3] };
        } else if ((match = line.match(/^pipewise is serving the demo at (http:\/\/[^/\s]+)\//))) {
          signInLines = false;
          server.base = match[1];
          const missing = ROLES.filter((role) => !server.users[role]);
          if (!server.password || missing.length > 0) {
            clearTimeout(timer);
            failWith(
              `pipewise demo is serving, but its output named no password or no user for ${missing.join(', ')}`,
            );
          }
        } else if (line.startsWith('pipewise analytics are ready') && server.base) {
          clearTimeout(timer);
          ready();
        }
      });
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return server;
}

/** A headless Chromium: Debian's package, launched with flags that suit a closed network. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.PIPEWISE_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', // running as root, as in CI containers
      '--disable-gpu',
      '--no-first-run',
      // Without these Chromium keeps calling Google's services, and the network refuses
      // its connections.
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Signs in on `page` as the demo user of `role` ('admin', 'manager', 'rep' or 'viewer') of
 * `server` (from startDemo), and waits for the pipeline board.
 */
export async function signIn(page, server, role) {
  const user = server.users[role];
  if (!user) throw new Error(`the demo has no ${role}; it has ${Object.keys(server.users).join(', ')}`);
  const board = `/app/${server.workspace}/board`;
  await page.goto(`${server.base}/app/${server.workspace}/sign-in`);
  await page.getByLabel('E-mail').fill(user.email);
  await page.getByLabel('Password').fill(server.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  try {
    await page.waitForURL((url) => url.pathname.endsWith(board));
  } catch (error) {
    const alerts = await page.getByRole('alert').allInnerTexts().catch(() => []);
    throw new Error(
      `signing in as ${role} <${user.email}> did not lead to ${board}; the page is ${page.url()}` +
        (alerts.length ? ` and says: ${alerts.join(' / ')}` : '') + `\n${error.message}`,
    );
  }
}

/**
 * A demo server and a browser for the tests of the calling file: started before its first
 * test and stopped after its last. Returns `{ server, browser }`, filled in by then.
 */
export function demoForFile() {
  const demo = {};
  before(async () => {
    demo.server = await startDemo();
    demo.browser = await launchBrowser();
  });
  after(async () => {
    await demo.browser?.close();
    await demo.server?.stop();
  });
  return demo;
}

/** Runs `action`, which makes the page reload itself, and waits for the new page. */
export async function reloading(page, action) {
  await Promise.all([page.waitForEvent('load'), action()]);
}
