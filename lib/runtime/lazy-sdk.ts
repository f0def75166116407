/**
 * AWS SDK clients loaded at their first use, not at cold start. Each `@aws-sdk/client-*` package
 * costs ~30-35 ms of CPU to load on its own, 6-23 ms beside DynamoDB's (they share the SDK core),
 * and most invocations use none of a function's clients but DynamoDB;
 * test/integration/bundles.test.ts checks that no function but the baseline one loads any other at
 * module load. The pattern: the client is created behind one of these, from an
 * `await import('@aws-sdk/client-x')` (a literal specifier, so that esbuild keeps the package
 * external), the adapters take `Pick<XClient, 'send'>` and import their commands in the method that
 * sends them, and SDK errors are matched by `name`. Types come from `import type`.
 *
 * @example
 * const sfn = lazyClient(async () => new (await import('@aws-sdk/client-sfn')).SFNClient({}));
 */

/** Loads once, at the first call; a failed load is tried again at the next call. */
export function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () =>
    (loading ??= load().catch((err: unknown) => {
      loading = undefined;
      throw err;
    }));
}

/**
 * A client whose SDK package is loaded, and the client created, at its first `send` (once per
 * warm function; a failed load is tried again by the next call).
 */
export function lazyClient<C extends { send(...args: never[]): Promise<unknown> }>(create: () => Promise<C>): Pick<C, 'send'> {
  const client = once(create);
  const send = (...args: never[]) => client().then((c) => c.send(...args));
  return { send } as Pick<C, 'send'>;
}
