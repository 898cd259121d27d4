// Lists the collection with the kiota request builders and follows every nextLink with msgraph-sdk-core's
// PageIterator. Prints {"items":[{id,connectorName}…],"count":@odata.count of the first page or null}.
import { Headers } from "@microsoft/kiota-abstractions";
import { PageIterator } from "@microsoft/msgraph-sdk-core";

import { item, main, query } from "./lib/env.mjs";
import { kiotaAdapter, kiotaClient } from "./lib/kiota.mjs";
import {
  createCertificateConnectorDetailsCollectionResponseFromDiscriminatorValue,
  errorMappings,
} from "./lib/graphbeta.mjs";

await main(async () => {
  const q = query();
  const adapter = kiotaAdapter();
  const client = kiotaClient(adapter);
  const queryParameters = {};
  if (q.top) queryParameters.top = q.top;
  if (q.skip) queryParameters.skip = q.skip;
  if (q.filter) queryParameters.filter = q.filter;
  if (q.orderBy) queryParameters.orderby = [q.orderBy];
  if (q.count) queryParameters.count = true;
  const prefer = q.maxPageSize ? `odata.maxpagesize=${q.maxPageSize}` : undefined;

  const page = await client.deviceManagement.certificateConnectorDetails.get({
    queryParameters,
    headers: prefer ? { Prefer: prefer } : undefined,
  });
  const items = [];
  // The iterator does not repeat the first request's headers; the Prefer header is passed again.
  const headers = new Headers();
  if (prefer) headers.add("Prefer", prefer);
  const it = new PageIterator(adapter, page, (c) => {
    items.push(item(c));
    return items.length < 100; // a server that loops must not hang the test
  }, createCertificateConnectorDetailsCollectionResponseFromDiscriminatorValue, errorMappings, { headers });
  await it.iterate();
  return { items, count: page.odataCount ?? null };
});
