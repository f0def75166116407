/**
 * The prebuilt CLI (`npm run build`, run by `npm ci` as `prepare`): the transpiled files answer
 * as the TypeScript does, a stale or missing build is not used, and the commands that only talk
 * to the engine load none of the compiler or the engine.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { build, isFresh } = require('../../bin/build-cli.js') as { build(out?: string): number; isFresh(out?: string): boolean };

const ROOT = path.resolve(__dirname, '../..');
let out: string;

beforeAll(() => {
  // Inside the repository, where the build's requires find node_modules (.gitignore: .build*).
  out = path.join(ROOT, `.build-test-${process.pid}`);
  build(out);
});

afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Runs `main` of a CLI module in a child Node and returns what it printed (throws on a non-zero exit). */
function runCli(cliModule: string, args: string[], preload: string[] = []): { out: string } {
  const script = `require(${JSON.stringify(cliModule)}).main(['node', 'sre-agent', ...${JSON.stringify(args)}]);`;
  const res = execFileSync(process.execPath, [...preload.flatMap((p) => ['-r', p]), '-e', script], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
  return { out: res };
}

describe('the prebuilt CLI', () => {
  it('compiles the same state machines as the TypeScript sources (compile --check passes from the build)', () => {
    // act
    const built = runCli(path.join(out, 'bin/cli.js'), ['compile', '--check']);
    // assess
    expect(built.out).toMatch(/^up to date: \d+ files\n$/);
  });

  it('prints the same graph as the TypeScript CLI run through tsx', () => {
    // act
    const built = runCli(path.join(out, 'bin/cli.js'), ['graph', 'traffic-surge']);
    const source = runCli(path.join(ROOT, 'bin/cli.ts'), ['graph', 'traffic-surge'], ['tsx/cjs']);
    // assess
    expect(built.out).toContain('states:');
    expect(built.out).toBe(source.out);
  });

  it('is fresh right after a build, and stale once a source is newer or a file was added', () => {
    // arrange
    const stampFile = path.join(out, 'stamp.json');
    const stamp = JSON.parse(readFileSync(stampFile, 'utf8')) as { builtAt: number; files: number };
    expect(isFresh(out)).toBe(true);
    try {
      // act + assess: a build older than the sources
      writeFileSync(stampFile, JSON.stringify({ ...stamp, builtAt: 0 }));
      expect(isFresh(out)).toBe(false);
      // act + assess: a source file added or removed since
      writeFileSync(stampFile, JSON.stringify({ ...stamp, files: stamp.files - 1 }));
      expect(isFresh(out)).toBe(false);
    } finally {
      writeFileSync(stampFile, JSON.stringify(stamp));
    }
  });

  it('is not used when missing', () => {
    expect(isFresh(path.join(out, 'no-such-build'))).toBe(false);
  });

  it('loads neither the compiler nor the local engine for a command that only talks to the engine', () => {
    // arrange: nothing listens on port 9 (discard)
    const script = `
      require(${JSON.stringify(path.join(out, 'bin/cli.js'))}).run(['node', 'sre-agent', 'incidents', '--url', 'http://127.0.0.1:9'], { out() {}, err() {} })
        .then((code) => process.stdout.write(JSON.stringify({ code, loaded: Object.keys(require.cache) })));`;
    // act
    const res = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' })) as { code: number; loaded: string[] };
    // assess
    expect(res.code).toBe(1);
    const ours = res.loaded.filter((f) => f.startsWith(out)).map((f) => path.relative(out, f));
    expect(ours.length).toBeGreaterThan(0);
    expect(ours.filter((f) => /lib\/(playbook\/(compile|build|index)|local\/(main|engine)|policy\/policy)\.js$/.test(f))).toEqual([]);
    expect(res.loaded.some((f) => f.includes('aws-local-stepfunctions') || f.includes('@aws-sdk'))).toBe(false);
  });
});
