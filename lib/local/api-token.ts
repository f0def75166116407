/**
 * The local engine's API token: every state-changing route needs it, so that another local
 * process or a web page cannot approve, reset breakers or inject events. It is made at start and
 * kept with mode 0600 in the data folder (`api-token`), or, with `--memory`, in a per-user runtime
 * folder (mode 0700) named after the port. The CLI and the dashboard find it there; nobody types it.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import * as path from 'node:path';

/** A token file others may read, or another problem with where tokens live. */
export class ApiTokenError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'ApiTokenError';
  }
}

/** Where a `--memory` engine on `port` keeps its token. */
export function runtimeTokenFile(port: number): string {
  const dir = path.join(process.env.XDG_RUNTIME_DIR || tmpdir(), `sre-agent-${userInfo().uid}`);
  return path.join(dir, `api-${port}.token`);
}

/** Where an engine with a data folder keeps its token. */
export function dataDirTokenFile(dataDir: string): string {
  return path.join(dataDir, 'api-token');
}

/** Makes the folder private (0700), creating it if needed. */
function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/** A fresh token. A new one per start: a token read by someone earlier is worthless once the engine restarts. */
export function newApiToken(): string {
  // Loaded here, not at the top: the CLI reads tokens on every command and never makes one.
  const { randomBytes } = require('node:crypto') as typeof import('node:crypto');
  return randomBytes(32).toString('base64url');
}

/** Writes `token` to `file` (0600, in a 0700 folder). */
export function writeApiToken(file: string, token: string): void {
  privateDir(path.dirname(file));
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/**
 * Reads a token file; undefined when there is none.
 * @throws ApiTokenError when others may read it
 */
export function readApiToken(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  if (process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) throw new ApiTokenError(`${file} is readable by other users; run chmod 600 ${file}`);
  return readFileSync(file, 'utf8').trim() || undefined;
}

/**
 * Makes a data folder private: the folder and every folder below it 0700, every file 0600
 * (the DynamoDB files hold task tokens and approval records).
 */
export function makePrivate(dir: string): void {
  privateDir(dir);
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop()!;
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) {
        chmodSync(p, 0o700);
        stack.push(p);
      } else if (entry.isFile()) chmodSync(p, 0o600);
    }
  }
}
