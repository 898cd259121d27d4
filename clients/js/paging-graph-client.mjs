// Lists the collection with @microsoft/microsoft-graph-client's query methods and follows every nextLink
// with its PageIterator. Prints {"items":[{id,connectorName}…],"count":@odata.count of the first page or null}.
import { item, main, query } from "./lib/env.mjs";
import { PageIterator, graphClientInit } from "./lib/graph-client.mjs";

await main(async () => {
  const q = query();
  const client = graphClientInit();
  let req = client.api("/deviceManagement/certificateConnectorDetails");
  if (q.top) req = req.top(q.top);
  if (q.skip) req = req.skip(q.skip);
  if (q.filter) req = req.filter(q.filter);
  if (q.orderBy) req = req.orderby(q.orderBy);
  if (q.count) req = req.count(true);
  const headers = q.maxPageSize ? { Prefer: `odata.maxpagesize=${q.maxPageSize}` } : undefined;
  if (headers) req = req.headers(headers);

  const page = await req.get();
  const items = [];
  const it = new PageIterator(client, page, (c) => {
    items.push(item(c));
    return items.length < 100; // a server that loops must not hang the test
  }, headers ? { headers } : undefined);
  await it.iterate();
  return { items, count: page["@odata.count"] ?? null };
});
