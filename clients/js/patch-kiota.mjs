// PATCHes one connector with the kiota request builders and model (GRAPHD_ID, GRAPHD_BODY: the
// properties, timestamps as ISO strings), then GETs it. Prints {"patched":{…},"read":{…}}, timestamps as
// toISOString() of the Date objects kiota hands back, and additional data (such as @odata.etag) as read.
import { env, main } from "./lib/env.mjs";
import { kiotaClient } from "./lib/kiota.mjs";

const dateProps = ["enrollmentDateTime", "lastCheckinDateTime"];

const plain = (m) => {
  const out = {};
  for (const [k, v] of Object.entries(m ?? {})) {
    if (k === "backingStoreEnabled") continue;
    out[k] = v instanceof Date ? v.toISOString() : v;
  }
  return out;
};

await main(async () => {
  const body = JSON.parse(env("GRAPHD_BODY"));
  for (const p of dateProps) if (body[p]) body[p] = new Date(body[p]);
  const item = kiotaClient().deviceManagement.certificateConnectorDetails.byCertificateConnectorDetailsId(env("GRAPHD_ID"));
  const patched = await item.patch(body);
  const read = await item.get();
  return { patched: plain(patched), read: plain(read) };
});
