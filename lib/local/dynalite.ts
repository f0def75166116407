/**
 * Embedded DynamoDB for local mode and integration tests: dynalite on a worker thread of this
 * process, an SDK client wired to it over a MessagePort with dummy credentials (no AWS account
 * needed; the thread also serves HTTP for clients built from the endpoint), and the agent's
 * tables created on demand.
 *
 * dynalite 4 speaks single-item operations only (no TransactWriteItems, no UpdateTimeToLive):
 * the thread adds TransactWriteItems (lib/local/dynalite-transactions.js: every condition
 * checked under dynalite's item locks, then all writes as one store batch, or none), so the
 * stores' transactions run here as in AWS.
 */
import { mkdirSync } from 'node:fs';
import { Agent } from 'node:http';
import * as path from 'node:path';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { IncidentTables } from '../incident/model';
import type { BreakerTables } from '../breaker/breaker';
import { LocalEngineError } from './errors';

/** Names of the agent's DynamoDB tables (in AWS: the DataTables construct's table names). */
/** Table names; `approvals` is optional (the incident/breaker tests need only those two). */
export type Tables = IncidentTables & BreakerTables & { readonly approvals?: string };

/** Table names used in local mode. */
export const LOCAL_TABLES: Tables = { incidents: 'sre-agent-incidents', breakers: 'sre-agent-breakers' };

export interface DynaliteOptions {
  /**
   * Folder of the LevelDB store; created if missing. Omit for an in-memory store.
   * @default in memory
   */
  readonly path?: string;
  /**
   * TCP port to listen on; 0 picks a free one (see `endpoint`).
   * @default 0
   */
  readonly port?: number;
  /**
   * Interface to listen on.
   * @default '127.0.0.1'
   */
  readonly host?: string;
}

/** A running dynalite and clients bound to it. */
export interface LocalDynamo {
  /** `http://host:port` of the server. */
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  /** Destroys the clients and closes the server (waiting for pending writes to reach the store). */
  stop(): Promise<void>;
}

/** What the SDK hands a request handler (an `HttpRequest` of @smithy/protocol-http). */
interface SdkRequest {
  readonly method: string;
  readonly path: string;
  readonly query?: Record<string, string | string[] | null>;
  readonly headers: Record<string, string>;
  readonly body?: string | Uint8Array;
}

interface ThreadReply {
  readonly id: number;
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * An SDK request handler that passes each serialized DynamoDB request to the dynalite thread
 * over a MessagePort and hands back its response: the wire format of AWS, without loopback
 * sockets and HTTP parsing on both sides (about a fifth of the engine's CPU in the storm).
 */
class ThreadRequestHandler {
  public readonly metadata = { handlerProtocol: 'http/1.1' };
  private readonly pending = new Map<number, { resolve(reply: ThreadReply): void; reject(err: Error): void }>();
  private nextId = 0;
  private closed = false;

  public constructor(private readonly port: MessagePort) {
    port.on('message', (reply: ThreadReply) => {
      this.pending.get(reply.id)?.resolve(reply);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) port.unref();
    });
    port.on('close', () => this.fail(new Error('the dynalite thread has stopped')));
    // Only a request waiting for its answer keeps the process alive.
    port.unref();
  }

  public async handle(request: SdkRequest): Promise<{ response: { statusCode: number; headers: Record<string, string>; body: Uint8Array } }> {
    if (this.closed) throw new LocalEngineError('the dynalite thread has stopped', 'dynalite');
    const id = (this.nextId += 1);
    const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]));
    const raw = request.body;
    const body = raw === undefined ? '' : typeof raw === 'string' ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8');
    const query = new URLSearchParams(
      Object.entries(request.query ?? {}).flatMap(([k, v]): [string, string][] => (v === null ? [[k, '']] : Array.isArray(v) ? v.map((x): [string, string] => [k, x]) : [[k, v as string]])),
    ).toString();
    const reply = await new Promise<ThreadReply>((resolve, reject) => {
      if (this.pending.size === 0) this.port.ref();
      this.pending.set(id, { resolve, reject });
      this.port.postMessage({ id, method: request.method, path: query ? `${request.path}?${query}` : request.path, headers, body });
    });
    // A byte array is a body the SDK takes as it is (no stream to collect).
    return { response: { statusCode: reply.statusCode, headers: reply.headers, body: Buffer.from(reply.body, 'utf8') } };
  }

  public updateHttpClientConfig(): void {}

  public httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  public destroy(): void {
    this.fail(new Error('the DynamoDB client was destroyed'));
  }

  private fail(err: Error): void {
    this.closed = true;
    for (const { reject } of this.pending.values()) reject(err);
    this.pending.clear();
    this.port.unref();
  }
}

/**
 * An SDK client for a DynamoDB endpoint with dummy credentials and region, for local use.
 * Over HTTP the socket pool is large because tests and drills run hundreds of writes in flight.
 *
 * @param requestHandler how requests travel. @default HTTP to `endpoint`
 */
export function localDynamoClient(endpoint: string, requestHandler?: ThreadRequestHandler): DynamoDBClient {
  const url = new URL(endpoint);
  return new DynamoDBClient({
    endpoint,
    // One fixed endpoint: no need to run the endpoint rule set on every request.
    endpointProvider: () => ({ url }),
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 3,
    // dynalite checks that a request carries a SigV4 Authorization header, not its signature:
    // a fixed header saves hashing and HMAC-signing every request (hot in drills and benchmarks).
    signer: {
      sign: async (request: { headers: Record<string, string> }) => {
        request.headers.authorization = `AWS4-HMAC-SHA256 Credential=local/${new Date().toISOString().slice(0, 10).replace(/-/g, '')}/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0`;
        request.headers['x-amz-date'] = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
        return request;
      },
    } as never,
    requestHandler: requestHandler ?? { httpAgent: new Agent({ keepAlive: true, maxSockets: 256 }) },
  });
}

/** A document client with the marshalling options the stores expect. */
export function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

type ThreadMessage = { listening: number } | { error: string } | { closed: true; error?: string };

/**
 * Starts dynalite on a worker thread (lib/local/dynalite-thread.js). On its own thread the
 * emulator parses, validates and stores requests on another core while the engine's thread runs
 * the handlers and the SDK: in the alarm-storm benchmark that is about half of the CPU work.
 * The worker does not keep the process alive; `stop()` ends it.
 *
 * @example
 * const dynamo = await startDynalite({ path: '.sre-agent/data' });
 * await createTables(dynamo.client, LOCAL_TABLES);
 * // ...
 * await dynamo.stop();
 */
export async function startDynalite(options: DynaliteOptions = {}): Promise<LocalDynamo> {
  if (options.path !== undefined) mkdirSync(options.path, { recursive: true });
  const host = options.host ?? '127.0.0.1';
  const requests = new MessageChannel();
  const worker = new Worker(path.join(__dirname, 'dynalite-thread.js'), {
    workerData: { path: options.path, port: options.port ?? 0, host, requests: requests.port2 },
    transferList: [requests.port2],
  });
  worker.unref();
  const next = () =>
    new Promise<ThreadMessage>((resolve, reject) => {
      const onExit = (code: number) => reject(new Error(`dynalite thread exited (code ${code}) before answering`));
      worker.once('error', reject);
      worker.once('exit', onExit);
      worker.once('message', (message: ThreadMessage) => {
        worker.off('error', reject);
        worker.off('exit', onExit);
        resolve(message);
      });
    });
  const started = await next().catch(async (err: unknown) => {
    await worker.terminate();
    throw err;
  });
  if (!('listening' in started)) {
    await worker.terminate();
    throw new LocalEngineError(`dynalite could not listen on ${host}:${options.port ?? 0}: ${'error' in started ? started.error : 'no answer'}`, `${host}:${options.port ?? 0}`);
  }
  const endpoint = `http://${host}:${started.listening}`;
  const client = localDynamoClient(endpoint, new ThreadRequestHandler(requests.port1));
  const doc = documentClient(client);
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    client,
    doc,
    stop: () => {
      stopped ??= (async () => {
        doc.destroy();
        client.destroy();
        const closed = next();
        worker.postMessage('close');
        const answer = await closed;
        await worker.terminate();
        if ('error' in answer && answer.error) throw new LocalEngineError(`dynalite did not close cleanly: ${answer.error}`, endpoint);
      })();
      return stopped;
    },
  };
}

function tableDefinitions(tables: Tables): CreateTableCommandInput[] {
  return [
    {
      TableName: tables.incidents,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    },
    {
      TableName: tables.breakers,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    },
    ...(tables.approvals
      ? [
          {
            TableName: tables.approvals,
            BillingMode: 'PAY_PER_REQUEST' as const,
            AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' as const }],
            KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' as const }],
          },
        ]
      : []),
  ];
}

/**
 * Creates the Incidents and Breakers tables (keys as in the CDK DataTables construct) when
 * missing, and waits until both are ACTIVE. Safe to call on every start.
 *
 * The SDK's `waitUntilTableExists` polls every 20 s at least; this polls every 50 ms.
 *
 * @param timeoutMs how long to wait for ACTIVE. @default 10000
 */
export async function createTables(client: DynamoDBClient, tables: Tables, timeoutMs = 10_000): Promise<void> {
  for (const definition of tableDefinitions(tables)) {
    try {
      await client.send(new CreateTableCommand(definition));
    } catch (err) {
      if (!(err instanceof ResourceInUseException)) throw err;
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (const name of [tables.incidents, tables.breakers, ...(tables.approvals ? [tables.approvals] : [])]) {
    for (;;) {
      try {
        const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
        if (Table?.TableStatus === 'ACTIVE') break;
      } catch (err) {
        if (!(err instanceof ResourceNotFoundException)) throw err;
      }
      if (Date.now() > deadline) throw new LocalEngineError(`table ${name} is not ACTIVE after ${timeoutMs} ms: is the DynamoDB endpoint healthy?`, name);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
