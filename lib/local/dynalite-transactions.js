/**
 * TransactWriteItems for dynalite (which speaks single-item operations only), run on the
 * dynalite thread against dynalite's own store, with DynamoDB's semantics for what the agent
 * uses: up to 100 Put / Update / Delete / ConditionCheck actions over one or more tables, no two
 * on the same item; every condition is checked first, and either all writes apply or none does,
 * the failure being a TransactionCanceledException with one CancellationReason per action
 * (`ConditionalCheckFailed` or `None`, in order).
 *
 * Isolation: every item of the transaction is locked with dynalite's own per-item lock (the one
 * its PutItem, UpdateItem and DeleteItem take), in a fixed order so two transactions cannot
 * deadlock, and the writes go to the store as one LevelDB batch: no writer can interleave, and
 * no reader sees half a transaction.
 *
 * Capacity (ReturnConsumedCapacity): two write units per KB per action, as DynamoDB charges
 * transactional writes.
 *
 * The update-expression evaluation below follows dynalite's actions/updateItem.js (MIT licence),
 * which does not export it.
 */
'use strict';
const path = require('node:path');
const db = require('dynalite/db');
// dynalite's own big.js (its dependency, not ours).
const Big = require(require.resolve('big.js', { paths: [path.dirname(require.resolve('dynalite'))] }));
const validations = require('dynalite/validations');

const TARGET = 'DynamoDB_20120810.TransactWriteItems';
const MAX_ACTIONS = 100;
const ACTION_VALIDATIONS = {
  Put: require('dynalite/validations/putItem'),
  Update: require('dynalite/validations/updateItem'),
  Delete: require('dynalite/validations/deleteItem'),
  ConditionCheck: require('dynalite/validations/deleteItem'),
};

function error(type, message, extra) {
  return { statusCode: 400, body: Object.assign({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message }, extra || {}) };
}

/** The action's request in the shape of its single-item operation, validated (expressions parsed). */
function single(kind, input, store) {
  const data = {
    TableName: input.TableName,
    ...(kind === 'Put' ? { Item: input.Item } : { Key: input.Key }),
    ...(input.UpdateExpression !== undefined ? { UpdateExpression: input.UpdateExpression } : {}),
    ...(input.ConditionExpression !== undefined ? { ConditionExpression: input.ConditionExpression } : {}),
    ...(input.ExpressionAttributeNames !== undefined ? { ExpressionAttributeNames: input.ExpressionAttributeNames } : {}),
    ...(input.ExpressionAttributeValues !== undefined ? { ExpressionAttributeValues: input.ExpressionAttributeValues } : {}),
  };
  if (kind === 'ConditionCheck' && data.ConditionExpression === undefined) throw db.validationError('ConditionCheck requires a ConditionExpression');
  if (kind === 'Update' && data.UpdateExpression === undefined) throw db.validationError('Update requires an UpdateExpression');
  const v = ACTION_VALIDATIONS[kind];
  const checked = validations.checkTypes(data, v.types);
  validations.checkValidations(checked, v.types, v.custom, store);
  return checked;
}

function getTable(store, name) {
  return new Promise((resolve, reject) => store.getTable(name, (err, table) => (err ? reject(err) : resolve(table))));
}

function getItem(itemDb, key) {
  return new Promise((resolve, reject) => itemDb.get(key, (err, item) => (err && err.name !== 'NotFoundError' ? reject(err) : resolve(err ? undefined : item))));
}

/** Takes dynalite's lock on one item; resolves with its release function. */
function lockItem(itemDb, key) {
  return new Promise((resolve) => itemDb.lock(key, (release) => resolve(release())));
}

/**
 * Runs one TransactWriteItems request (its JSON body parsed); calls back (err, data) as
 * dynalite's actions do, err carrying statusCode and body.
 */
async function transactWriteItems(store, request) {
  const items = request && request.TransactItems;
  if (!Array.isArray(items) || items.length === 0) throw error('ValidationException', 'TransactItems must hold at least one action');
  if (items.length > MAX_ACTIONS) throw error('ValidationException', `TransactItems holds ${items.length} actions; at most ${MAX_ACTIONS}`);
  const actions = [];
  for (const [i, entry] of items.entries()) {
    const kinds = Object.keys(entry || {}).filter((k) => ACTION_VALIDATIONS[k]);
    if (kinds.length !== 1) throw error('ValidationException', `TransactItems[${i}] must hold exactly one of Put, Update, Delete, ConditionCheck`);
    const kind = kinds[0];
    let data;
    try {
      data = single(kind, entry[kind], store);
    } catch (err) {
      if (err.statusCode) throw err;
      throw error('ValidationException', `TransactItems[${i}]: ${err.message}`);
    }
    const table = await getTable(store, data.TableName).catch((err) => {
      throw err.statusCode ? err : error('ResourceNotFoundException', `Requested resource not found: ${data.TableName}`);
    });
    const invalid = kind === 'Put' ? db.validateItem(data.Item, table) : db.validateKey(data.Key, table);
    if (invalid) throw invalid;
    const key = db.createKey(kind === 'Put' ? data.Item : data.Key, table);
    actions.push({ kind, data, table, key, itemDb: store.getItemDb(data.TableName), id: `${data.TableName}\u0000${key}` });
  }
  const ids = new Set(actions.map((a) => a.id));
  if (ids.size !== actions.length) throw error('ValidationException', 'Transaction request cannot include multiple operations on one item');

  // Fixed order: two transactions over the same items take their locks the same way round.
  const releases = [];
  try {
    for (const a of [...actions].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))) releases.push(await lockItem(a.itemDb, a.key));
    for (const a of actions) a.old = await getItem(a.itemDb, a.key);
    const reasons = actions.map((a) => (db.checkConditional(a.data, a.old) ? { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' } : { Code: 'None' }));
    if (reasons.some((r) => r.Code !== 'None')) {
      throw error('TransactionCanceledException', `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`, { CancellationReasons: reasons });
    }
    const batch = [];
    const capacity = new Map();
    for (const a of actions) {
      let next;
      if (a.kind === 'Put') next = a.data.Item;
      else if (a.kind === 'Update') {
        next = a.old ? deepClone(a.old) : deepClone(a.data.Key);
        const err = applyUpdateExpression(a.data._updates.sections, a.table, next);
        if (err) throw err;
        if (db.itemSize(next) > store.options.maxItemSize) throw error('ValidationException', 'Item size to update has exceeded the maximum allowed size');
      } else if (a.kind === 'Delete') next = undefined;
      else continue; // ConditionCheck writes nothing.
      a.next = next;
      batch.push(next === undefined ? { type: 'del', key: `item-${a.data.TableName}~${a.key}` } : { type: 'put', key: `item-${a.data.TableName}~${a.key}`, value: next });
    }
    for (const a of actions) {
      const units = 2 * Math.max(db.capacityUnits(a.old, false), a.next ? db.capacityUnits(a.next, false) : 0);
      capacity.set(a.data.TableName, (capacity.get(a.data.TableName) || 0) + units);
    }
    for (const a of actions) if (a.kind !== 'ConditionCheck') await updateIndexes(store, a.table, a.old, a.next);
    await new Promise((resolve, reject) => store.db.batch(batch, (err) => (err ? reject(err) : resolve())));
    const total = request.ReturnConsumedCapacity === 'TOTAL' || request.ReturnConsumedCapacity === 'INDEXES';
    return total ? { ConsumedCapacity: [...capacity].map(([TableName, CapacityUnits]) => ({ TableName, CapacityUnits, WriteCapacityUnits: CapacityUnits })) } : {};
  } finally {
    for (const release of releases) release();
  }
}

function updateIndexes(store, table, oldItem, newItem) {
  return new Promise((resolve, reject) => db.updateIndexes(store, table, oldItem, newItem, (err) => (err ? reject(err) : resolve())));
}

/** Serves a TransactWriteItems request given its body; `send(statusCode, data)` answers. */
function serveTransaction(store, body, send) {
  let request;
  try {
    request = JSON.parse(body || '{}');
  } catch {
    send(400, { __type: 'com.amazon.coral.service#SerializationException' });
    return;
  }
  transactWriteItems(store, request).then(
    (data) => send(200, data),
    (err) => (err && err.statusCode ? send(err.statusCode, err.body) : send(500, { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: String(err && err.message) })),
  );
}

// ---- after dynalite's actions/updateItem.js ---------------------------------------------------

function deepClone(obj) {
  if (typeof obj !== 'object' || obj == null) return obj;
  if (Array.isArray(obj)) return obj.map(deepClone);
  const result = Object.create(null);
  for (const attr in obj) result[attr] = deepClone(obj[attr]);
  return result;
}

function applyUpdateExpression(sections, table, item) {
  const toSquash = [];
  for (const section of sections) {
    if (section.type === 'set') {
      section.val = resolveValue(section.val, item);
      if (typeof section.val === 'string') return db.validationError(section.val);
    }
  }
  for (const section of sections) {
    const parent = db.mapPath(section.path.slice(0, -1), item);
    const attr = section.path[section.path.length - 1];
    if (parent == null || (typeof attr === 'number' ? parent.L : parent.M) == null) {
      return db.validationError('The document path provided in the update expression is invalid for update');
    }
    let existing = parent.M ? parent.M[attr] : parent.L[attr];
    const alreadyExists = existing != null;
    if (section.type === 'remove') deleteFromParent(parent, attr);
    else if (section.type === 'delete') {
      if (alreadyExists && Object.keys(existing)[0] !== section.attrType) return db.validationError('An operand in the update expression has an incorrect data type');
      if (alreadyExists) {
        existing[section.attrType] = existing[section.attrType].filter((val) => !section.val[section.attrType].includes(val));
        if (!existing[section.attrType].length) deleteFromParent(parent, attr);
      }
    } else if (section.type === 'add') {
      if (alreadyExists && Object.keys(existing)[0] !== section.attrType) return db.validationError('An operand in the update expression has an incorrect data type');
      if (section.attrType === 'N') {
        if (!existing) existing = { N: '0' };
        existing.N = new Big(existing.N).plus(section.val.N).toFixed();
      } else {
        if (!existing) existing = {};
        if (!existing[section.attrType]) existing[section.attrType] = [];
        existing[section.attrType] = existing[section.attrType].concat(section.val[section.attrType].filter((a) => !existing[section.attrType].includes(a)));
      }
      if (!alreadyExists) addToParent(parent, attr, existing, toSquash);
    } else if (section.type === 'set') {
      if (section.path.length === 1) {
        const err = db.traverseIndexes(table, (indexAttr, type) => {
          if (section.path[0] === indexAttr && section.val[type] == null) return db.validationError('The update expression attempted to update the secondary index key to unsupported type');
        });
        if (err) return err;
      }
      addToParent(parent, attr, section.val, toSquash);
    }
  }
  for (const obj of toSquash) obj.L = obj.L.filter(Boolean);
  return undefined;
}

function resolveValue(val, item) {
  if (Array.isArray(val)) return db.mapPath(val, item) || 'The provided expression refers to an attribute that does not exist in the item';
  if (val.type === 'add' || val.type === 'subtract') {
    const a = resolveValue(val.args[0], item);
    if (typeof a === 'string') return a;
    if (a.N == null) return 'An operand in the update expression has an incorrect data type';
    const b = resolveValue(val.args[1], item);
    if (typeof b === 'string') return b;
    if (b.N == null) return 'An operand in the update expression has an incorrect data type';
    return { N: new Big(a.N)[val.type === 'add' ? 'plus' : 'minus'](b.N).toFixed() };
  }
  if (val.type === 'function' && val.name === 'if_not_exists') return db.mapPath(val.args[0], item) || resolveValue(val.args[1], item);
  if (val.type === 'function' && val.name === 'list_append') {
    const a = resolveValue(val.args[0], item);
    if (typeof a === 'string') return a;
    if (a.L == null) return 'An operand in the update expression has an incorrect data type';
    const b = resolveValue(val.args[1], item);
    if (typeof b === 'string') return b;
    if (b.L == null) return 'An operand in the update expression has an incorrect data type';
    return { L: a.L.concat(b.L) };
  }
  return val || 'The provided expression refers to an attribute that does not exist in the item';
}

function deleteFromParent(parent, attr) {
  if (parent.M) delete parent.M[attr];
  else if (parent.L) parent.L.splice(attr, 1);
}

function addToParent(parent, attr, val, toSquash) {
  if (parent.M) parent.M[attr] = val;
  else if (parent.L) {
    if (attr > parent.L.length && !toSquash.includes(parent)) toSquash.push(parent);
    parent.L[attr] = val;
  }
}

module.exports = { TARGET, serveTransaction, transactWriteItems };
