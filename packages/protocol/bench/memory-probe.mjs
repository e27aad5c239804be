// Preloaded into the echo server by bad-input.mjs (`node --import`): answers each
// IPC message with the process's memory and its count of open TCP sockets, so
// the attacks are measured in the real echo server, not a copy of it.
process.on('message', (request) => {
  if (request === 'gc') globalThis.gc?.();
  const sockets = process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
  process.send({ ...process.memoryUsage(), sockets });
});
