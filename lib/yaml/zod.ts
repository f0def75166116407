/**
 * The schema language of every validator: zod's tree-shakable `zod/mini`, with English messages.
 *
 * Why mini: every Lambda bundle validates its payload and environment, and classic `zod` comes
 * whole (about 100 kB minified, and 10-15 ms of a cold start to load), whatever a bundle uses of
 * it. `zod/mini` is the same engine (the same parsing, the same issues) behind plain functions,
 * so a bundle carries only the checks it calls: `z.optional(z.string())` for classic's
 * `z.string().optional()`, `s.check(z.minLength(1))` for `.min(1)`, `z.strictObject` for `.strict()`.
 *
 * `zod/mini` loads no locale by default (every message would read "Invalid input"), so this module
 * configures English once; every file imports `z` from here, never from 'zod' itself (a
 * dependency rule in .dependency-cruiser.cjs).
 */
import { en } from 'zod/locales';
import * as z from 'zod/mini';

z.config(en());

export { z };
