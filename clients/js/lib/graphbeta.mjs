// A hand-written slice of the kiota-generated Microsoft Graph beta JavaScript SDK: the
// certificateConnectorDetails model, its collection response, Graph's error model and the request builders
// from the service client down to one connector, in the generated code's shape (deserializer and serializer
// functions, navigation and request metadata for kiota's apiClientProxifier), so the kiota runtime
// serializes, sends and pages as it does for the real SDK. Only what graphd's client tests need is here.
import { apiClientProxifier } from "@microsoft/kiota-abstractions";

export const odataType = "#microsoft.graph.certificateConnectorDetails";

export function createCertificateConnectorDetailsFromDiscriminatorValue(_parseNode) {
  return deserializeIntoCertificateConnectorDetails;
}

export function deserializeIntoCertificateConnectorDetails(m = {}) {
  return {
    "id": (n) => { m.id = n.getStringValue(); },
    "@odata.type": (n) => { m.odataType = n.getStringValue(); },
    "connectorName": (n) => { m.connectorName = n.getStringValue(); },
    "connectorVersion": (n) => { m.connectorVersion = n.getStringValue(); },
    "enrollmentDateTime": (n) => { m.enrollmentDateTime = n.getDateValue(); },
    "lastCheckinDateTime": (n) => { m.lastCheckinDateTime = n.getDateValue(); },
    "machineName": (n) => { m.machineName = n.getStringValue(); },
  };
}

export function serializeCertificateConnectorDetails(writer, m = {}, isSerializingDerivedType = false) {
  if (!m || isSerializingDerivedType) return;
  writer.writeStringValue("id", m.id);
  writer.writeStringValue("@odata.type", m.odataType ?? odataType);
  writer.writeStringValue("connectorName", m.connectorName);
  writer.writeStringValue("connectorVersion", m.connectorVersion);
  writer.writeDateValue("enrollmentDateTime", m.enrollmentDateTime);
  writer.writeDateValue("lastCheckinDateTime", m.lastCheckinDateTime);
  writer.writeStringValue("machineName", m.machineName);
  writer.writeAdditionalData(m.additionalData);
}

export function createCertificateConnectorDetailsCollectionResponseFromDiscriminatorValue(_parseNode) {
  return deserializeIntoCertificateConnectorDetailsCollectionResponse;
}

export function deserializeIntoCertificateConnectorDetailsCollectionResponse(m = {}) {
  return {
    "@odata.count": (n) => { m.odataCount = n.getNumberValue(); },
    "@odata.nextLink": (n) => { m.odataNextLink = n.getStringValue(); },
    "value": (n) => { m.value = n.getCollectionOfObjectValues(createCertificateConnectorDetailsFromDiscriminatorValue); },
  };
}

export function createODataErrorFromDiscriminatorValue(_parseNode) {
  return deserializeIntoODataError;
}

export function deserializeIntoODataError(m = {}) {
  return {
    "error": (n) => { m.error = n.getObjectValue(() => deserializeIntoMainError); },
  };
}

function deserializeIntoMainError(m = {}) {
  return {
    "code": (n) => { m.code = n.getStringValue(); },
    "message": (n) => { m.message = n.getStringValue(); },
  };
}

export const errorMappings = { XXX: createODataErrorFromDiscriminatorValue };

const itemUriTemplate = "{+baseurl}/deviceManagement/certificateConnectorDetails/{certificateConnectorDetails%2Did}{?%24expand,%24select}";
const collectionUriTemplate = "{+baseurl}/deviceManagement/certificateConnectorDetails{?%24count,%24expand,%24filter,%24orderby,%24search,%24select,%24skip,%24top}";

const itemRequestsMetadata = {
  get: {
    uriTemplate: itemUriTemplate,
    responseBodyContentType: "application/json",
    errorMappings,
    adapterMethodName: "send",
    responseBodyFactory: createCertificateConnectorDetailsFromDiscriminatorValue,
    queryParametersMapper: { expand: "%24expand", select: "%24select" },
  },
  patch: {
    uriTemplate: itemUriTemplate,
    responseBodyContentType: "application/json",
    errorMappings,
    adapterMethodName: "send",
    responseBodyFactory: createCertificateConnectorDetailsFromDiscriminatorValue,
    requestBodyContentType: "application/json",
    requestBodySerializer: serializeCertificateConnectorDetails,
    requestInformationContentSetMethod: "setContentFromParsable",
  },
};

const collectionRequestsMetadata = {
  get: {
    uriTemplate: collectionUriTemplate,
    responseBodyContentType: "application/json",
    errorMappings,
    adapterMethodName: "send",
    responseBodyFactory: createCertificateConnectorDetailsCollectionResponseFromDiscriminatorValue,
    queryParametersMapper: {
      count: "%24count", expand: "%24expand", filter: "%24filter", orderby: "%24orderby",
      search: "%24search", select: "%24select", skip: "%24skip", top: "%24top",
    },
  },
};

const navigationMetadata = {
  deviceManagement: {
    navigationMetadata: {
      certificateConnectorDetails: {
        requestsMetadata: collectionRequestsMetadata,
        navigationMetadata: {
          byCertificateConnectorDetailsId: {
            requestsMetadata: itemRequestsMetadata,
            pathParametersMappings: ["certificateConnectorDetails%2Did"],
          },
        },
      },
    },
  },
};

// createGraphServiceClient roots the request builders at the adapter's base URL (Graph's when unset), as
// the generated client does.
export function createGraphServiceClient(requestAdapter) {
  if (!requestAdapter.baseUrl) {
    requestAdapter.baseUrl = "https://graph.microsoft.com/beta";
  }
  return apiClientProxifier(requestAdapter, { baseurl: requestAdapter.baseUrl }, navigationMetadata, undefined);
}
