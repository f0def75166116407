/**
 * dynalite on its own thread (see startDynalite in dynalite.ts): the embedded DynamoDB gets a
 * core of its own, as the real service would, instead of sharing the engine's event loop.
 * Plain JavaScript, so the worker starts without a TypeScript loader.
 *
 * It serves two ways, both through dynalite's own request handler:
 * - HTTP on workerData.host:port, for anything holding the endpoint (the Lambda handlers in
 *   tests, the AWS CLI);
 * - the MessagePort in workerData.requests, for the engine's own SDK clients: the same DynamoDB
 *   JSON requests and responses, without loopback sockets and HTTP parsing on either side.
 *   In: { id, method, path, headers, body }. Out: { id, statusCode, headers, body }.
 *
 * dynalite lacks TransactWriteItems: ./dynalite-transactions.js serves it on both ways.
 *
 * workerData: { path?: string, port: number, host: string, requests: MessagePort }
 * Messages out: { listening: port } | { error: message } | { closed: true, error?: message }
 * Messages in:  'close' (closes connections, the server and the store, then says closed)
 */
const { EventEmitter } = require('node:events');
const { parentPort, workerData } = require('node:worker_threads');
const dynalite = require('dynalite');
const dynaliteDb = require('dynalite/db');
const transactions = require('./dynalite-transactions');

// dynalite keeps its store to itself: catch it as it is made, for TransactWriteItems.
let store;
const createStore = dynaliteDb.create;
dynaliteDb.create = (options) => (store = createStore(options));
const server = dynalite({ path: workerData.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
dynaliteDb.create = createStore;
const dynaliteHandle = server.listeners('request')[0];

/** dynalite's handler, with TransactWriteItems (which it lacks) served by ./dynalite-transactions. */
function handle(req, res) {
  if (req.headers['x-amz-target'] !== transactions.TARGET) return dynaliteHandle(req, res);
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () =>
    transactions.serveTransaction(store, Buffer.concat(chunks).toString('utf8'), (statusCode, data) => {
      const body = JSON.stringify(data);
      res.statusCode = statusCode;
      res.setHeader('Content-Type', 'application/x-amz-json-1.0');
      res.setHeader('Content-Length', String(Buffer.byteLength(body, 'utf8')));
      res.end(body);
    }),
  );
}
server.removeListener('request', dynaliteHandle);
server.on('request', handle);

server.once('error', (err) => parentPort.postMessage({ error: err.message }));
server.listen(workerData.port, workerData.host, () => parentPort.postMessage({ listening: server.address().port }));

/**
 * One request per turn of the event loop. A port hands over every queued message at once:
 * parsing a clump of them before any store operation ran would hold back the first answer
 * until the last request of the clump is parsed.
 */
const queue = [];
let draining = false;
workerData.requests.on('message', (message) => {
  queue.push(message);
  if (!draining) {
    draining = true;
    setImmediate(drain);
  }
});
function drain() {
  serve(queue.shift());
  if (queue.length > 0) setImmediate(drain);
  else draining = false;
}

/** Just what dynalite's handler uses of an IncomingMessage and a ServerResponse. */
function serve({ id, method, path, headers, body }) {
  const req = Object.assign(new EventEmitter(), { method, url: path, headers });
  const outHeaders = {};
  const res = {
    statusCode: 200,
    setHeader: (name, value) => void (outHeaders[name.toLowerCase()] = String(value)),
    getHeader: (name) => outHeaders[name.toLowerCase()],
    end: (data) => workerData.requests.postMessage({ id, statusCode: res.statusCode, headers: outHeaders, body: data === undefined ? '' : String(data) }),
  };
  handle(req, res);
  if (body) req.emit('data', Buffer.from(body));
  req.emit('end');
}

parentPort.on('message', (message) => {
  if (message !== 'close') return;
  workerData.requests.close();
  server.closeAllConnections();
  server.close((err) => parentPort.postMessage({ closed: true, error: err ? err.message : undefined }));
});
