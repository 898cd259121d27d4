// Batches with @microsoft/microsoft-graph-client: BatchRequestContent builds the batch from fetch Requests of
// absolute URLs (it strips only scheme, host and port, so the urls go out as /beta/…), the client POSTs it to
// /$batch, and BatchResponseContent hands each answer back as a fetch Response. The batch is serial: a PATCH
// of GRAPHD_ID to GRAPHD_NAME, a GET of it, and a GET of GRAPHD_MISSING_ID.
// Prints {"sent": the batch as the client built it, "responses": {id: {status, ok, contentType, body}}}.
import graphClient from "@microsoft/microsoft-graph-client";

import { env, main, serviceRoot } from "./lib/env.mjs";
import { graphClientInit } from "./lib/graph-client.mjs";

const { BatchRequestContent, BatchResponseContent } = graphClient;

await main(async () => {
  const item = (id) => `${serviceRoot()}/deviceManagement/certificateConnectorDetails/${id}`;
  const content = new BatchRequestContent([
    {
      id: "1",
      request: new Request(item(env("GRAPHD_ID")), {
        method: "PATCH",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ connectorName: env("GRAPHD_NAME") }),
      }),
    },
    { id: "2", request: new Request(item(env("GRAPHD_ID")), { method: "GET" }), dependsOn: ["1"] },
    { id: "3", request: new Request(item(env("GRAPHD_MISSING_ID")), { method: "GET" }), dependsOn: ["2"] },
  ]);
  const sent = await content.getContent();
  const batch = new BatchResponseContent(await graphClientInit().api("/$batch").post(sent));
  const responses = {};
  for (const [id, res] of batch.getResponses()) {
    const text = await res.text();
    responses[id] = {
      status: res.status,
      ok: res.ok,
      contentType: res.headers.get("Content-Type"),
      body: text === "" ? null : JSON.parse(text),
    };
  }
  return { sent, responses };
});
