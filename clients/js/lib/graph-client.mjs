// @microsoft/microsoft-graph-client as a user builds it. It sends the token only to https URLs of Graph's
// hosts or of customHosts (host names, without ports), and follows only https nextLinks, so graphd is
// served over https for it.
import graphClient from "@microsoft/microsoft-graph-client";

import { serviceRoot, token } from "./env.mjs";

export const { PageIterator } = graphClient;

export function graphClientInit() {
  const root = new URL(serviceRoot());
  return graphClient.Client.init({
    baseUrl: root.origin,
    defaultVersion: root.pathname.replace(/^\/+|\/+$/g, ""),
    customHosts: new Set([root.hostname]),
    authProvider: (done) => done(null, token()),
  });
}
