/**
 * ConfigOps on AWS Systems Manager Parameter Store: one String parameter per key,
 * `<prefix>/config/<service>/<key>` and `<prefix>/flags/<service|global>/<flag>` ("true"/"false").
 * A put applies at once and keeps a version history (GetParameterHistory) for the audit; IAM can
 * scope the agent to the prefix. See the README for why not AppConfig. The SDK package is loaded at
 * the first call (lib/runtime/lazy-sdk.ts).
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import { ActionError, InvalidParameterError, TransientTargetError } from '../errors';
import type { ConfigOps } from '../ports';

const TRANSIENT = new Set(['ThrottlingException', 'TooManyUpdates', 'InternalServerError', 'ServiceUnavailable']);
const SEGMENT = /^[A-Za-z0-9_.-]+$/;

export interface SsmConfigOptions {
  readonly client: Pick<SSMClient, 'send'>;
  /** @default '/sre-agent' */
  readonly prefix?: string;
}

export class SsmConfig implements ConfigOps {
  public readonly name: string;
  private readonly prefix: string;

  public constructor(private readonly options: SsmConfigOptions) {
    this.prefix = (options.prefix ?? '/sre-agent').replace(/\/+$/, '');
    this.name = `ssm:${this.prefix}`;
  }

  /** The parameter name of a key; a segment that could climb the hierarchy is refused. */
  public parameterName(kind: 'config' | 'flags', scope: string, key: string): string {
    for (const [what, v] of [['service', scope], [kind === 'config' ? 'key' : 'flag', key]] as const) {
      if (!SEGMENT.test(v)) throw new InvalidParameterError(`${this.name}: ${what} "${v}" is not a parameter name segment (letters, digits, _ . -)`, { target: v });
    }
    return `${this.prefix}/${kind}/${scope}/${key}`;
  }

  private fail(err: unknown, doing: string, name: string): ActionError {
    const code = (err as { name?: string }).name ?? 'Error';
    const message = `${doing} ${name} failed: ${code}: ${(err as Error).message}`;
    return TRANSIENT.has(code) ? new TransientTargetError(message, { target: name, cause: err }) : new ActionError(message, { target: name, cause: err });
  }

  private async read(name: string): Promise<string | undefined> {
    const { GetParameterCommand } = await import('@aws-sdk/client-ssm');
    try {
      return (await this.options.client.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
    } catch (err) {
      if ((err as { name?: string }).name === 'ParameterNotFound') return undefined;
      throw this.fail(err, 'GetParameter', name);
    }
  }

  private async write(name: string, value: string | null): Promise<void> {
    const { DeleteParameterCommand, PutParameterCommand } = await import('@aws-sdk/client-ssm');
    try {
      if (value === null) await this.options.client.send(new DeleteParameterCommand({ Name: name }));
      else await this.options.client.send(new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true, Description: 'set by sre-agent' }));
    } catch (err) {
      if (value === null && (err as { name?: string }).name === 'ParameterNotFound') return;
      throw this.fail(err, value === null ? 'DeleteParameter' : 'PutParameter', name);
    }
  }

  public get(service: string, key: string): Promise<string | undefined> {
    return this.read(this.parameterName('config', service, key));
  }

  public async set(service: string, values: Readonly<Record<string, string | null>>): Promise<void> {
    // Names first: a bad key is refused before anything is written.
    const writes = Object.entries(values).map(([k, v]) => [this.parameterName('config', service, k), v] as const);
    for (const [name, v] of writes) await this.write(name, v);
  }

  public async getFlags(names: readonly string[], service?: string): Promise<Record<string, boolean | undefined>> {
    const byName = new Map(names.map((f) => [this.parameterName('flags', service ?? 'global', f), f]));
    const out: Record<string, boolean | undefined> = Object.fromEntries(names.map((f) => [f, undefined]));
    const all = [...byName.keys()];
    const { GetParametersCommand } = await import('@aws-sdk/client-ssm');
    for (let i = 0; i < all.length; i += 10) {
      const batch = all.slice(i, i + 10); // GetParameters takes at most 10 names
      let res;
      try {
        res = await this.options.client.send(new GetParametersCommand({ Names: batch }));
      } catch (err) {
        throw this.fail(err, 'GetParameters', batch.join(', '));
      }
      for (const p of res.Parameters ?? []) {
        const flag = byName.get(p.Name ?? '');
        if (flag !== undefined) out[flag] = p.Value === 'true' ? true : p.Value === 'false' ? false : undefined;
      }
    }
    return out;
  }

  public async setFlags(flags: Readonly<Record<string, boolean | null>>, service?: string): Promise<void> {
    const writes = Object.entries(flags).map(([f, v]) => [this.parameterName('flags', service ?? 'global', f), v === null ? null : String(v)] as const);
    for (const [name, v] of writes) await this.write(name, v);
  }
}
