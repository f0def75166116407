/**
 * aws-local-stepfunctions 3 declares Node ≥ 22 and calls Promise.withResolvers (Node 22+). On
 * Node 20 this three-line polyfill, loaded before it, is all it needs (DESIGN.md, facts checked).
 */
type WithResolvers = <T>() => { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void };
const P = Promise as unknown as { withResolvers?: WithResolvers };
if (typeof P.withResolvers !== 'function') {
  P.withResolvers = <T>() => {
    let resolve!: (v: T) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
    return { promise, resolve, reject };
  };
}
export {};
