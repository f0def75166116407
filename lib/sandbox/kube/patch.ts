/**
 * The three patch types of PATCH requests, as the API server applies them:
 * - JSON merge patch (RFC 7386, application/merge-patch+json): maps merge, `null` deletes, lists replace;
 * - JSON patch (RFC 6902, application/json-patch+json): add, remove, replace, move, copy, test;
 *   an operation that cannot apply is a 422 with the library's message (apiserver patch.go);
 * - strategic merge patch (application/strategic-merge-patch+json): lists of the Kubernetes types
 *   that declare a patch merge key (containers by `name`, ports by `containerPort`...) merge by it,
 *   with the `$patch`, `$setElementOrder/`, `$retainKeys` and `$deleteFromPrimitiveList/` directives
 *   (k8s.io/apimachinery/pkg/util/strategicpatch; merge keys from the `patchMergeKey` tags of k8s.io/api).
 */
import { badRequest, unprocessable } from './errors';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** RFC 7386. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: JsonObject = isObject(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v) as Json;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// JSON patch (RFC 6902)
// ---------------------------------------------------------------------------------------------

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: Json;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw unprocessable(`invalid JSON pointer "${path}"`);
  return path
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: Json, parts: string[], op: string, path: string): { parent: Json; key: string } {
  let node: Json = doc;
  for (const part of parts.slice(0, -1)) {
    if (Array.isArray(node)) node = node[Number(part)] as Json;
    else if (isObject(node)) node = node[part] as Json;
    else node = undefined as unknown as Json;
    if (node === undefined) throw unprocessable(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
  }
  return { parent: node, key: parts[parts.length - 1] as string };
}

function getAt(doc: Json, path: string, op: string): Json {
  let node: Json = doc;
  for (const part of pointer(path)) {
    if (Array.isArray(node)) node = node[Number(part)] as Json;
    else if (isObject(node)) node = node[part] as Json;
    else node = undefined as unknown as Json;
    if (node === undefined) throw unprocessable(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
  }
  return node;
}

function arrayIndex(arr: Json[], key: string, op: string, path: string, forInsert: boolean): number {
  if (key === '-' && forInsert) return arr.length;
  if (!/^\d+$/.test(key)) throw unprocessable(`${op} operation does not apply: doc is missing path: "${path}": invalid index`);
  const i = Number(key);
  if (i > arr.length || (!forInsert && i >= arr.length)) throw unprocessable(`${op} operation does not apply: doc is missing path: "${path}": index out of range`);
  return i;
}

function addAt(doc: Json, path: string, value: Json, op: string): Json {
  const parts = pointer(path);
  if (parts.length === 0) return value;
  const { parent, key } = parentOf(doc, parts, op, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, op, path, true), 0, value);
  else if (isObject(parent)) parent[key] = value;
  else throw unprocessable(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
  return doc;
}

function removeAt(doc: Json, path: string, op: string): Json {
  const parts = pointer(path);
  const { parent, key } = parentOf(doc, parts, op, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, op, path, false), 1);
  else if (isObject(parent) && Object.prototype.hasOwnProperty.call(parent, key)) delete parent[key];
  else throw unprocessable(`${op} operation does not apply: doc is missing key: ${path}: missing value`);
  return doc;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

/** RFC 6902, atomically: any failing operation leaves the document untouched. */
export function jsonPatch(target: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let doc = structuredClone(target) as Json;
  for (const raw of operations as Operation[]) {
    if (!isObject(raw as unknown) || typeof raw.op !== 'string' || typeof raw.path !== 'string') throw badRequest(`invalid JSON patch operation: ${JSON.stringify(raw)}`);
    const { op, path } = raw;
    switch (op) {
      case 'add':
        doc = addAt(doc, path, structuredClone(raw.value ?? null), op);
        break;
      case 'remove':
        doc = removeAt(doc, path, op);
        break;
      case 'replace': {
        const parts = pointer(path);
        if (parts.length === 0) {
          doc = structuredClone(raw.value ?? null);
          break;
        }
        const { parent, key } = parentOf(doc, parts, op, path);
        if (Array.isArray(parent)) parent[arrayIndex(parent, key, op, path, false)] = structuredClone(raw.value ?? null);
        else if (isObject(parent) && Object.prototype.hasOwnProperty.call(parent, key)) parent[key] = structuredClone(raw.value ?? null);
        else throw unprocessable(`replace operation does not apply: doc is missing key: ${path}: missing value`);
        break;
      }
      case 'move': {
        if (typeof raw.from !== 'string') throw badRequest('move operation missing "from"');
        const value = getAt(doc, raw.from, op);
        doc = removeAt(doc, raw.from, op);
        doc = addAt(doc, path, value, op);
        break;
      }
      case 'copy': {
        if (typeof raw.from !== 'string') throw badRequest('copy operation missing "from"');
        doc = addAt(doc, path, structuredClone(getAt(doc, raw.from, op)), op);
        break;
      }
      case 'test': {
        let actual: Json | undefined;
        try {
          actual = getAt(doc, path, op);
        } catch {
          actual = undefined;
        }
        if (!deepEqual(actual, raw.value)) throw unprocessable(`testing value ${path} failed: test failed`);
        break;
      }
      default:
        throw badRequest(`Unexpected kind: ${op}`);
    }
  }
  return doc;
}

// ---------------------------------------------------------------------------------------------
// Strategic merge patch
// ---------------------------------------------------------------------------------------------

/**
 * Patch merge keys of the lists the sandbox's kinds contain, by field name and the field that
 * holds the list (from the `patchStrategy:"merge" patchMergeKey:"..."` tags in k8s.io/api).
 * A list without an entry here is replaced whole, as for an atomic list.
 */
function mergeKeyOf(field: string, parent: string | undefined): string | undefined {
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'volumes':
    case 'imagePullSecrets':
      return 'name';
    case 'env':
      return 'name';
    case 'ports':
      // Container ports merge by containerPort; Service ports by port.
      return parent === 'spec' ? 'port' : 'containerPort';
    case 'volumeMounts':
      return 'mountPath';
    case 'volumeDevices':
      return 'devicePath';
    case 'hostAliases':
      return 'ip';
    case 'ownerReferences':
      return 'uid';
    case 'conditions':
      return 'type';
    default:
      return undefined;
  }
}

/** Lists of primitives whose patch strategy is `merge` (union rather than replace). */
const PRIMITIVE_MERGE = new Set(['finalizers']);

function applyDeleteFromPrimitiveList(out: JsonObject, patch: JsonObject): void {
  for (const [k, v] of Object.entries(patch)) {
    const m = /^\$deleteFromPrimitiveList\/(.+)$/.exec(k);
    if (!m || !Array.isArray(v)) continue;
    const field = m[1] as string;
    const list = out[field];
    if (Array.isArray(list)) out[field] = list.filter((item) => !v.some((d) => deepEqual(d, item)));
  }
}

function mergeList(field: string, parent: string | undefined, original: Json | undefined, patch: Json[], order: Json[] | undefined): Json[] {
  const key = mergeKeyOf(field, parent);
  const base = Array.isArray(original) ? structuredClone(original) : [];
  if (!key) {
    if (PRIMITIVE_MERGE.has(field)) {
      const merged = [...base];
      for (const v of patch) if (!merged.some((m) => deepEqual(m, v))) merged.push(v);
      return merged;
    }
    // `[{"$patch": "replace"}]` or a plain list: the patch list replaces the original.
    return patch.filter((v) => !(isObject(v) && v.$patch === 'replace'));
  }
  if (patch.some((v) => isObject(v) && v.$patch === 'replace')) return patch.filter((v) => !(isObject(v) && v.$patch === 'replace')).map((v) => stripDirectives(v));
  let result = base;
  for (const item of patch) {
    if (!isObject(item)) throw badRequest(`strategic merge patch: ${field} items must be objects with "${key}"`);
    const id = item[key];
    const index = result.findIndex((o) => isObject(o) && deepEqual(o[key], id));
    if (item.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
      continue;
    }
    if (index >= 0) result[index] = strategicMerge(result[index], item, field) as Json;
    else result.push(stripDirectives(item));
  }
  if (order) {
    // `$setElementOrder/<field>`: the order the client expects, by merge key; others keep their place after.
    const ordered: Json[] = [];
    for (const o of order) {
      const i = result.findIndex((r) => isObject(r) && isObject(o) && deepEqual(r[key], o[key]));
      if (i >= 0) ordered.push(result.splice(i, 1)[0] as Json);
    }
    result = [...ordered, ...result];
  }
  return result;
}

function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, val] of Object.entries(v)) {
    if (k.startsWith('$')) continue;
    if (val === null) continue;
    out[k] = stripDirectives(val);
  }
  return out;
}

/** Applies a strategic merge patch to `original`. `field` is the name of the field that holds `original` (for merge keys). */
export function strategicMerge(original: unknown, patch: unknown, field?: string): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  if (patch.$patch === 'replace') return stripDirectives(patch);
  if (patch.$patch === 'delete') return undefined;
  const out: JsonObject = isObject(original) ? structuredClone(original) : {};
  const retain = patch.$retainKeys;
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    if (v === null) {
      delete out[k];
      continue;
    }
    if (Array.isArray(v)) {
      const order = patch[`$setElementOrder/${k}`];
      out[k] = mergeList(k, field, out[k], v, Array.isArray(order) ? order : undefined);
    } else if (isObject(v)) {
      const merged = strategicMerge(out[k], v, k);
      if (merged === undefined) delete out[k];
      else out[k] = merged as Json;
    } else out[k] = v;
  }
  for (const [k, v] of Object.entries(patch)) {
    const m = /^\$setElementOrder\/(.+)$/.exec(k);
    if (m && Array.isArray(v) && !(m[1] as string in patch) && Array.isArray(out[m[1] as string])) out[m[1] as string] = mergeList(m[1] as string, field, out[m[1] as string], [], v);
  }
  applyDeleteFromPrimitiveList(out, patch);
  if (Array.isArray(retain)) for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  return out;
}

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

/** The patch type a Content-Type names. */
export function patchTypeOf(contentType: string | undefined): PatchType | undefined {
  const t = (contentType ?? '').split(';')[0]?.trim();
  if (t === 'application/json-patch+json') return 'json';
  if (t === 'application/merge-patch+json') return 'merge';
  if (t === 'application/strategic-merge-patch+json') return 'strategic';
  if (t === 'application/apply-patch+yaml') return 'apply';
  return undefined;
}

export function applyPatch(type: Exclude<PatchType, 'apply'>, target: unknown, patch: unknown): unknown {
  if (type === 'json') return jsonPatch(target, patch);
  if (!isObject(patch)) throw badRequest(`the patch is not a JSON object: ${JSON.stringify(patch).slice(0, 80)}`);
  return type === 'merge' ? mergePatch(target, patch) : strategicMerge(target, patch);
}
