// What every script shares: the environment the Go tests set and the JSON a script prints.
//
// Environment: GRAPHD_SERVICE_ROOT (such as https://127.0.0.1:41234/beta) and GRAPHD_TOKEN (a token
// graphd accepts), and per script e.g. GRAPHD_QUERY (JSON of clienttest.Query: top, skip, filter, orderBy,
// count, maxPageSize).

export function env(name) {
  const v = process.env[name];
  if (v === undefined || v === "") throw new Error(`${name} is not set`);
  return v;
}

export const serviceRoot = () => env("GRAPHD_SERVICE_ROOT");
export const token = () => env("GRAPHD_TOKEN");
export const query = () => JSON.parse(env("GRAPHD_QUERY"));

// item is how scripts report an entity.
export const item = (c) => ({ id: c.id, connectorName: c.connectorName ?? null });

// main runs a script's body and prints its result as JSON; an error goes to stderr with exit code 1.
export async function main(fn) {
  try {
    const out = await fn();
    process.stdout.write(JSON.stringify(out) + "\n");
  } catch (e) {
    const detail = {
      message: e?.message, name: e?.name, statusCode: e?.responseStatusCode ?? e?.statusCode,
      code: e?.code, error: e?.error, body: e?.body,
    };
    process.stderr.write(JSON.stringify(detail) + "\n" + (e?.stack ?? "") + "\n");
    process.exitCode = 1;
  }
}
