// The kiota-based client as a user builds it: msgraph-sdk-core's Graph request adapter (Graph's middleware
// and telemetry, kiota's JSON serialization), a bearer token provider handing out a static token, and
// graphd's service root as the base URL.
import {
  AllowedHostsValidator,
  BaseBearerTokenAuthenticationProvider,
  ParseNodeFactoryRegistry,
  SerializationWriterFactoryRegistry,
  validateProtocol,
} from "@microsoft/kiota-abstractions";
import { BaseGraphRequestAdapter } from "@microsoft/msgraph-sdk-core";

import { serviceRoot, token } from "./env.mjs";
import { createGraphServiceClient } from "./graphbeta.mjs";

// staticTokenProvider is a kiota AccessTokenProvider handing out one token, to the service's host only and,
// like kiota's own providers, only over https or to localhost.
export function staticTokenProvider(tok, host) {
  const hosts = new AllowedHostsValidator(new Set([host]));
  return {
    getAuthorizationToken: async (url) => {
      if (!url || !hosts.isUrlHostValid(url)) return "";
      validateProtocol(url);
      return tok;
    },
    getAllowedHostsValidator: () => hosts,
  };
}

export function kiotaAdapter() {
  const root = serviceRoot();
  const auth = new BaseBearerTokenAuthenticationProvider(staticTokenProvider(token(), new URL(root).hostname));
  // BaseGraphRequestAdapter's default factories are not importable from its module: pass registries, which
  // kiota-bundle's DefaultRequestAdapter fills with the JSON, text, form and multipart factories.
  const adapter = new BaseGraphRequestAdapter("beta", "0.0.0", auth,
    new ParseNodeFactoryRegistry(), new SerializationWriterFactoryRegistry());
  adapter.baseUrl = root;
  return adapter;
}

export function kiotaClient(adapter = kiotaAdapter()) {
  return createGraphServiceClient(adapter);
}
