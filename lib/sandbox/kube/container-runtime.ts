/**
 * What `kubectl exec` finds inside the sandbox's containers: a JVM as PID 1 (OpenJDK 21: jcmd,
 * jstack, jmap with their real output formats) or a distroless Go binary with nothing else, a
 * /tmp that a container restart wipes, and cgroup v2 files that follow the scene's load.
 * Output formats are those of OpenJDK 21's tools (jdk.jcmd module) and coreutils; the error for a
 * program the image does not have is containerd/runc's (`OCI runtime exec failed ...`).
 */
import { randomBytes } from 'node:crypto';
import type { Runtime } from './scene';

/** The state of one container that its commands read. */
export interface ContainerState {
  readonly runtime: Runtime;
  /** Files in the container's writable layer (path → size in bytes). */
  readonly files: Map<string, { size: number; at: Date; content?: string }>;
  readonly memoryLimitBytes: number;
  readonly memoryBytes: number;
  readonly cpuLimitCores?: number;
  readonly cpuCores: number;
  /** When the container (PID 1) started. */
  readonly startedAt: Date;
  readonly gcPauseMs: number;
  readonly threads: number;
  /** Threads blocked on a monitor (lock contention shows as BLOCKED in a thread dump). */
  readonly blockedThreads: number;
}

export interface ExecOutcome {
  readonly stdout: string;
  readonly stderr: string;
  /** 0 on success. */
  readonly exitCode: number;
  /** Set when the runtime could not start the program (no such executable): a 500 Status, not an exit code. */
  readonly runtimeError?: string;
}

const ok = (stdout: string): ExecOutcome => ({ stdout, stderr: '', exitCode: 0 });
const fail = (stderr: string, exitCode = 1, stdout = ''): ExecOutcome => ({ stdout, stderr, exitCode });

function notFound(program: string): ExecOutcome {
  return {
    stdout: '',
    stderr: '',
    exitCode: 126,
    runtimeError: `error executing command in container: failed to exec in container: failed to start exec "${randomBytes(32).toString('hex')}": OCI runtime exec failed: exec failed: unable to start container process: exec: "${program}": executable file not found in $PATH: unknown`,
  };
}

const JVM_TOOLS = new Set(['jcmd', 'jstack', 'jmap', 'jstat', 'java', 'ls', 'cat', 'ps', 'df', 'free', 'sh', 'bash']);

function uptimeSeconds(c: ContainerState, now: Date): number {
  return Math.max(1, (now.getTime() - c.startedAt.getTime()) / 1000);
}

const STATES = ['RUNNABLE', 'TIMED_WAITING (parking)', 'WAITING (parking)', 'WAITING (on object monitor)', 'TIMED_WAITING (sleeping)'] as const;

function threadDump(c: ContainerState, now: Date): string {
  const up = uptimeSeconds(c, now);
  const lines = [
    now.toISOString().replace('T', ' ').slice(0, 19),
    'Full thread dump OpenJDK 64-Bit Server VM (21.0.5+11-LTS mixed mode, sharing):',
    '',
    'Threads class SMR info:',
    `_java_thread_list=0x00007f3a2c00f8e0, length=${c.threads}, elements={`,
    '}',
    '',
  ];
  for (let i = 1; i <= c.threads; i++) {
    const blocked = i > 1 && i <= 1 + c.blockedThreads;
    const state = i === 1 ? 'TIMED_WAITING (sleeping)' : blocked ? 'BLOCKED (on object monitor)' : STATES[i % STATES.length];
    const name = i === 1 ? 'main' : i < 12 ? `GC Thread#${i - 2}` : `worker-${i - 11}`;
    const tid = (0x7f3a2c000000 + i * 0x1000).toString(16);
    lines.push(`"${name}" #${i} [${i + 6}] prio=5 os_prio=0 cpu=${((i * 37.5) % 9000).toFixed(2)}ms elapsed=${up.toFixed(2)}s tid=0x0000${tid} nid=${i + 6} ${state.startsWith('RUNNABLE') ? 'runnable' : state.startsWith('BLOCKED') ? 'waiting for monitor entry' : 'waiting on condition'}  [0x00007f3a1${(i * 4096).toString(16).padStart(7, '0')}]`);
    lines.push(`   java.lang.Thread.State: ${state}`);
    if (blocked) {
      lines.push('\tat com.exchange.book.OrderBook.match(OrderBook.java:214)');
      lines.push('\t- waiting to lock <0x00000006c1a2b3c8> (a com.exchange.book.OrderBook)');
    } else if (state.startsWith('RUNNABLE')) {
      lines.push('\tat sun.nio.ch.EPoll.wait(java.base@21.0.5/Native Method)');
    } else {
      lines.push('\tat jdk.internal.misc.Unsafe.park(java.base@21.0.5/Native Method)');
    }
    lines.push('');
  }
  lines.push('JNI global refs: 31, weak refs: 0', '');
  return lines.join('\n');
}

/** PerfCounter.print: the hsperfdata counters jstat reads. Ticks are nanoseconds (sun.os.hrt.frequency). */
function perfCounters(c: ContainerState, now: Date): string {
  const freq = 1_000_000_000;
  const up = uptimeSeconds(c, now);
  const ticks = Math.round(up * freq);
  const youngCount = Math.max(1, Math.round(up / 4));
  const oldCount = Math.max(0, Math.round(up / 900));
  const pause = Math.round(c.gcPauseMs * 1e6);
  // The last young collection ended a little before now (within the last 2 s, after the JVM started).
  const lastExit = Math.max(pause + 1, ticks - Math.min(2_000_000_000, Math.round(ticks / 10)));
  const young = [
    `sun.gc.collector.0.invocations=${youngCount}`,
    `sun.gc.collector.0.lastEntryTime=${lastExit - pause}`,
    `sun.gc.collector.0.lastExitTime=${lastExit}`,
    `sun.gc.collector.0.name="G1 Young Generation"`,
    `sun.gc.collector.0.time=${youngCount * Math.max(1, Math.round(pause * 0.6))}`,
  ];
  const old = [
    `sun.gc.collector.1.invocations=${oldCount}`,
    `sun.gc.collector.1.lastEntryTime=${oldCount ? ticks - 300_000_000_000 : 0}`,
    `sun.gc.collector.1.lastExitTime=${oldCount ? ticks - 300_000_000_000 + Math.round(pause / 3) : 0}`,
    `sun.gc.collector.1.name="G1 Old Generation"`,
    `sun.gc.collector.1.time=${oldCount * Math.round(pause / 3)}`,
  ];
  return [
    '1:',
    `java.threads.daemon=${Math.max(0, c.threads - 14)}`,
    `java.threads.live=${c.threads}`,
    `java.threads.livePeak=${c.threads + 7}`,
    `java.threads.started=${c.threads + 311}`,
    ...young,
    ...old,
    `sun.gc.generation.0.space.0.used=${Math.round(c.memoryBytes * 0.25)}`,
    `sun.gc.generation.1.space.0.used=${Math.round(c.memoryBytes * 0.55)}`,
    `sun.os.hrt.frequency=${freq}`,
    `sun.os.hrt.ticks=${ticks}`,
    `sun.rt.createVmBeginTime=${c.startedAt.getTime()}`,
    '',
  ].join('\n');
}

function heapInfo(c: ContainerState): string {
  const heapKb = Math.round((c.memoryLimitBytes * 0.75) / 1024);
  const usedKb = Math.round((c.memoryBytes * 0.8) / 1024);
  return ['1:', ` garbage-first heap   total ${heapKb}K, used ${usedKb}K [0x0000000600000000, 0x0000000800000000)`, `  region size 2048K, ${Math.round(heapKb / 8192)} young (${Math.round(heapKb / 4)}K), 4 survivors (8192K)`, ' Metaspace       used 112384K, committed 113664K, reserved 1179648K', '  class space    used 13512K, committed 14080K, reserved 1048576K', ''].join('\n');
}

function lsLine(path: string, f: { size: number; at: Date }): string {
  const d = f.at;
  const month = d.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  return `-rw------- 1 app app ${f.size} ${month} ${String(d.getUTCDate()).padStart(2, ' ')} ${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')} ${path}`;
}

function ls(c: ContainerState, args: string[]): ExecOutcome {
  const long = args.some((a) => /^-[a-zA-Z]*l/.test(a));
  const paths = args.filter((a) => !a.startsWith('-'));
  const targets = paths.length ? paths : ['.'];
  const out: string[] = [];
  const err: string[] = [];
  for (const p of targets) {
    const file = c.files.get(p);
    if (file) {
      out.push(long ? lsLine(p, file) : p);
      continue;
    }
    const dir = p.replace(/\/$/, '');
    const inDir = [...c.files].filter(([f]) => f.startsWith(`${dir}/`) && !f.slice(dir.length + 1).includes('/'));
    if (inDir.length || ['/tmp', '/', '/app', '.'].includes(dir)) {
      if (long) out.push(`total ${inDir.reduce((s, [, f]) => s + Math.ceil(f.size / 1024), 0)}`);
      for (const [f, meta] of inDir.sort(([a], [b]) => a.localeCompare(b))) out.push(long ? lsLine(f.slice(dir.length + 1), meta) : f.slice(dir.length + 1));
      continue;
    }
    err.push(`ls: cannot access '${p}': No such file or directory`);
  }
  return { stdout: out.length ? `${out.join('\n')}\n` : '', stderr: err.length ? `${err.join('\n')}\n` : '', exitCode: err.length ? 2 : 0 };
}

function cat(c: ContainerState, args: string[], now: Date): ExecOutcome {
  const out: string[] = [];
  for (const p of args) {
    switch (p) {
      case '/sys/fs/cgroup/memory.current':
        out.push(`${Math.round(c.memoryBytes)}\n`);
        break;
      case '/sys/fs/cgroup/memory.max':
        out.push(`${c.memoryLimitBytes}\n`);
        break;
      case '/sys/fs/cgroup/cpu.max':
        out.push(c.cpuLimitCores ? `${Math.round(c.cpuLimitCores * 100000)} 100000\n` : 'max 100000\n');
        break;
      case '/sys/fs/cgroup/cpu.stat': {
        const usage = Math.round(c.cpuCores * uptimeSeconds(c, now) * 1e6);
        out.push(`usage_usec ${usage}\nuser_usec ${Math.round(usage * 0.85)}\nsystem_usec ${Math.round(usage * 0.15)}\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n`);
        break;
      }
      default:
        if (c.files.has(p)) out.push(c.files.get(p)?.content ?? `<${c.files.get(p)?.size} bytes of binary data>\n`);
        else return fail(`cat: ${p}: No such file or directory\n`, 1, out.join(''));
    }
  }
  return ok(out.join(''));
}

/** `jmap -dump:format=b,file=<path> <pid>` (and -histo). A dump onto an existing file fails, as HotSpot's HeapDumper does. */
function jmap(c: ContainerState, args: string[], now: Date): ExecOutcome {
  const pid = args[args.length - 1];
  if (pid !== '1') return fail(`${pid}: no such process\n`);
  const dump = args.find((a) => a.startsWith('-dump:'));
  if (dump) {
    const file = /(?:^|[:,])file=([^,]+)/.exec(dump.slice('-dump:'.length))?.[1];
    if (!file) return fail('Usage:\n    jmap -dump:<dump-options> <pid>\n    dump-options:\n      file=<file>  dump heap to <file>\n');
    if (c.files.has(file)) return fail(`Unable to create ${file}: File exists\n`, 1, `Dumping heap to ${file} ...\n`);
    const size = Math.round(c.memoryBytes * 0.8);
    c.files.set(file, { size, at: now });
    return ok(`Dumping heap to ${file} ...\nHeap dump file created [${size} bytes in ${(size / 4e8).toFixed(3)} secs]\n`);
  }
  if (args.some((a) => a.startsWith('-histo'))) {
    return ok([' num     #instances         #bytes  class name (module)', '-------------------------------------------------------', `   1:       4194304      ${Math.round(c.memoryBytes * 0.31)}  [B (java.base@21.0.5)`, `   2:       1048576      ${Math.round(c.memoryBytes * 0.12)}  com.exchange.order.Order`, ''].join('\n'));
  }
  return fail('Usage:\n    jmap -clstats <pid>\n    jmap -finalizerinfo <pid>\n    jmap -histo[:[<histo-options>]] <pid>\n    jmap -dump:<dump-options> <pid>\n', 1);
}

function jcmd(c: ContainerState, args: string[], now: Date): ExecOutcome {
  const [pid, command, ...rest] = args;
  if (pid === undefined || pid === '-l') return ok('1 /app/app.jar\n');
  if (pid !== '1') return fail(`java.io.IOException: No such process\n`);
  switch (command) {
    case 'Thread.print':
      return ok(`1:\n${threadDump(c, now)}`);
    case 'Thread.dump_to_file': {
      const file = rest.filter((a) => !a.startsWith('-'))[0];
      if (!file) return ok('1:\nThe argument \'filepath\' is mandatory.\n');
      if (c.files.has(file) && !rest.includes('-overwrite')) return ok(`1:\n${file} exists, use -overwrite to overwrite\n`);
      const text = threadDump(c, now);
      c.files.set(file, { size: Buffer.byteLength(text), at: now, content: text });
      return ok(`1:\nCreated ${file}\n`);
    }
    case 'PerfCounter.print':
      return ok(perfCounters(c, now));
    case 'GC.heap_info':
      return ok(heapInfo(c));
    case 'VM.uptime':
      return ok(`1:\n${uptimeSeconds(c, now).toFixed(3)} s\n`);
    case 'help':
    case undefined:
      return ok('1:\nThe following commands are available:\nGC.heap_info\nPerfCounter.print\nThread.dump_to_file\nThread.print\nVM.uptime\nhelp\n');
    default:
      return ok(`1:\njava.lang.IllegalArgumentException: Unknown diagnostic command\n`);
  }
}

/** Runs a command in a container of the sandbox. */
export function runInContainer(c: ContainerState, argv: readonly string[], now: Date): ExecOutcome {
  const [program = '', ...args] = argv;
  const base = program.split('/').pop() ?? program;
  if (c.runtime === 'go' || !JVM_TOOLS.has(base)) return notFound(program);
  switch (base) {
    case 'jstack':
      return args[args.length - 1] === '1' ? ok(threadDump(c, now)) : fail(`${args[args.length - 1] ?? ''}: no such process\n`);
    case 'jcmd':
      return jcmd(c, args, now);
    case 'jmap':
      return jmap(c, args, now);
    case 'ls':
      return ls(c, args);
    case 'cat':
      return cat(c, args, now);
    case 'ps':
      return ok(`PID   USER     TIME  COMMAND\n    1 app      ${Math.round(uptimeSeconds(c, now) / 60)}:00 java -XX:+UseG1GC -XX:MaxRAMPercentage=75 -jar /app/app.jar\n`);
    case 'df':
      return ok('Filesystem     1K-blocks    Used Available Use% Mounted on\noverlay         83873772 9034528  74839244  11% /\ntmpfs              65536       0     65536   0% /dev\n');
    case 'free': {
      const mb = (b: number) => Math.round(b / 2 ** 20);
      return ok(`               total        used        free      shared  buff/cache   available\nMem:           ${mb(c.memoryLimitBytes)}        ${mb(c.memoryBytes)}        ${mb(c.memoryLimitBytes - c.memoryBytes)}           0           0        ${mb(c.memoryLimitBytes - c.memoryBytes)}\n`);
    }
    case 'sh':
    case 'bash': {
      // Only `sh -c 'exit N'` (tests of exit codes); images have no general shell scripting here.
      const script = args[0] === '-c' ? (args[1] ?? '') : '';
      const m = /^exit (\d+)$/.exec(script.trim());
      if (m) return { stdout: '', stderr: '', exitCode: Number(m[1]) };
      return fail(`${base}: ${script || 'interactive shells are not available in the sandbox'}: not supported\n`, 127);
    }
    default:
      return notFound(program);
  }
}
