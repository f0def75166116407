/**
 * dynalite on its own thread (see startDynalite in dynalite.ts): the embedded DynamoDB gets a
 * core of its own, as the real service would, instead of sharing the engine's event loop.
 * Plain JavaScript, so the worker starts without a TypeScript loader.
 *
 * workerData: { path?: string, port: number, host: string }
 * Messages out: { listening: port } | { error: message } | { closed: true, error?: message }
 * Messages in:  'close' (closes connections, the server and the store, then says closed)
 */
const { parentPort, workerData } = require('node:worker_threads');
const dynalite = require('dynalite');

const server = dynalite({ path: workerData.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });

server.once('error', (err) => parentPort.postMessage({ error: err.message }));
server.listen(workerData.port, workerData.host, () => parentPort.postMessage({ listening: server.address().port }));

parentPort.on('message', (message) => {
  if (message !== 'close') return;
  server.closeAllConnections();
  server.close((err) => parentPort.postMessage({ closed: true, error: err ? err.message : undefined }));
});
