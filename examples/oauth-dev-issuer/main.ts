/**
 * `npx tsx examples/oauth-dev-issuer/main.ts [--port 8089] [--dir .pony-oauth] [--audience pony]
 *   [--client id:secret …]`
 *
 * Starts the development OAuth issuer (issuer.ts) and prints the flags that make a Pony server trust it and
 * the LHC_* settings a client or worker uses to get tokens from it. See "Securing Pony" in the README.
 */
import { parseArgs } from "node:util";
import { startDevIssuer } from "./issuer";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "8089" },
    dir: { type: "string", default: ".pony-oauth" },
    audience: { type: "string", default: "pony" },
    client: {
      type: "string",
      multiple: true,
      default: ["admin:admin-secret", "quickstart:quickstart-secret"],
    },
  },
});

const clients: Record<string, string> = {};
for (const c of values.client) {
  const i = c.indexOf(":");
  if (i <= 0) throw new Error(`--client takes id:secret, got '${c}'`);
  clients[c.slice(0, i)] = c.slice(i + 1);
}

const issuer = await startDevIssuer({
  port: Number(values.port),
  dir: values.dir,
  audience: values.audience,
  clients,
});
console.log(`OAuth dev issuer ${issuer.issuer} (clients: ${Object.keys(clients).join(", ")})

Start Pony with:
  npm start -- --oauth-issuer ${issuer.issuer} --oauth-audience ${issuer.audience} \\
    --oauth-jwks-file ${issuer.jwksFile} --bootstrap-admin ${Object.keys(clients)[0]}

Clients and workers get tokens with:
  LHC_OAUTH_ACCESS_TOKEN_URL=${issuer.tokenUrl} LHC_OAUTH_CLIENT_ID=<id> LHC_OAUTH_CLIENT_SECRET=<secret>`);
process.on("SIGINT", () => void issuer.close().then(() => process.exit(0)));
process.on("SIGTERM", () => void issuer.close().then(() => process.exit(0)));
