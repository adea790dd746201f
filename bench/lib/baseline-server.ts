// The floor for "time to first answer": bare Node answering /_matrix/client/versions with node:http,
// no dependencies, started the same way as the server (same env, same poll). Not a Matrix server.
import { createServer } from "node:http";

const listen = process.env.REMPART_LISTEN ?? "127.0.0.1:0";
const i = listen.lastIndexOf(":");
const body = JSON.stringify({ versions: ["v1.1"], unstable_features: {} });
const server = createServer((_req, res) => {
  res.writeHead(200, { "content-type": "application/json" });
  res.end(body);
});
server.listen(Number(listen.slice(i + 1)), listen.slice(0, i));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
