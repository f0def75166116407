/**
 * The schema language of every validator: zod's tree-shakable `zod/mini`, with English messages.
 * Import it as a namespace, `import * as z from '../yaml/zod'`.
 *
 * Why mini: every Lambda bundle validates its payload and environment, and classic `zod` comes
 * whole (about 100 kB minified, and 10-15 ms of a cold start to load), whatever a bundle uses of
 * it. `zod/mini` is the same engine (the same parsing, the same issues, the same messages) behind
 * plain functions, so a bundle carries only the checks it calls: `z.optional(z.string())` for
 * classic's `z.string().optional()`, `s.check(z.minLength(1))` for `.min(1)`, `z.strictObject`
 * for `.strict()`, `z._default(s, v)` for `.default(v)`. A failed parse throws zod's core
 * `$ZodError` (`z.core.$ZodError`), not classic's `ZodError`.
 *
 * Why `export *` and not `export { z }`: esbuild tree-shakes the names a namespace import uses
 * from a re-export, but keeps all of an exported namespace object (a one-line string check
 * bundles to 12 kB this way, to 432 kB the other: every check and every locale).
 *
 * `zod/mini` loads no locale by default (every message would read "Invalid input"), so this
 * module configures English, once, before any schema parses. Nothing imports 'zod' itself
 * (the dependency rule `zod-through-lib-yaml` in .dependency-cruiser.cjs).
 */
import { en } from 'zod/locales';
import { config } from 'zod/mini';

config(en());

export * from 'zod/mini';
