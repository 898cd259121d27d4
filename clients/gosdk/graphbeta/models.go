// Package graphbeta is a hand-written slice of the kiota-generated Microsoft Graph beta Go SDK
// (msgraph-beta-sdk-go, which the module proxy does not serve here): the certificateConnectorDetails model,
// its collection response, Graph's error model and the request builders from the service client down to one
// connector. It is shaped like the generated code (parsable models with field deserializers, request
// builders over URI templates with uriparametername-tagged query parameters, the Graph request adapter from
// msgraph-sdk-go-core), so the kiota runtime serializes, sends and pages exactly as it does for the real
// SDK. Only what graphd's client tests need is here.
package graphbeta

import (
	"time"

	"github.com/microsoft/kiota-abstractions-go/serialization"
)

// ODataType is the type name the model writes and graphd returns.
const ODataType = "#microsoft.graph.certificateConnectorDetails"

// CertificateConnectorDetails is microsoft.graph.certificateConnectorDetails.
type CertificateConnectorDetails struct {
	additionalData      map[string]any
	id                  *string
	odataType           *string
	connectorName       *string
	connectorVersion    *string
	enrollmentDateTime  *time.Time
	lastCheckinDateTime *time.Time
	machineName         *string
}

// NewCertificateConnectorDetails returns an empty model with its @odata.type set, as the generated
// constructor does.
func NewCertificateConnectorDetails() *CertificateConnectorDetails {
	t := ODataType
	return &CertificateConnectorDetails{additionalData: map[string]any{}, odataType: &t}
}

// CreateCertificateConnectorDetailsFromDiscriminatorValue is the model's ParsableFactory.
func CreateCertificateConnectorDetailsFromDiscriminatorValue(serialization.ParseNode) (serialization.Parsable, error) {
	return NewCertificateConnectorDetails(), nil
}

func (m *CertificateConnectorDetails) GetAdditionalData() map[string]any  { return m.additionalData }
func (m *CertificateConnectorDetails) SetAdditionalData(v map[string]any) { m.additionalData = v }
func (m *CertificateConnectorDetails) GetId() *string                     { return m.id }
func (m *CertificateConnectorDetails) SetId(v *string)                    { m.id = v }
func (m *CertificateConnectorDetails) GetOdataType() *string              { return m.odataType }
func (m *CertificateConnectorDetails) SetOdataType(v *string)             { m.odataType = v }
func (m *CertificateConnectorDetails) GetConnectorName() *string          { return m.connectorName }
func (m *CertificateConnectorDetails) SetConnectorName(v *string)         { m.connectorName = v }
func (m *CertificateConnectorDetails) GetConnectorVersion() *string       { return m.connectorVersion }
func (m *CertificateConnectorDetails) SetConnectorVersion(v *string)      { m.connectorVersion = v }
func (m *CertificateConnectorDetails) GetEnrollmentDateTime() *time.Time  { return m.enrollmentDateTime }
func (m *CertificateConnectorDetails) SetEnrollmentDateTime(v *time.Time) { m.enrollmentDateTime = v }
func (m *CertificateConnectorDetails) GetLastCheckinDateTime() *time.Time {
	return m.lastCheckinDateTime
}
func (m *CertificateConnectorDetails) SetLastCheckinDateTime(v *time.Time) { m.lastCheckinDateTime = v }
func (m *CertificateConnectorDetails) GetMachineName() *string             { return m.machineName }
func (m *CertificateConnectorDetails) SetMachineName(v *string)            { m.machineName = v }

// GetFieldDeserializers reads each JSON member into its field; members without one land in additional data
// (where the JSON parse node puts @odata.etag, for one).
func (m *CertificateConnectorDetails) GetFieldDeserializers() map[string]func(serialization.ParseNode) error {
	return map[string]func(serialization.ParseNode) error{
		"id":                  stringField(m.SetId),
		"@odata.type":         stringField(m.SetOdataType),
		"connectorName":       stringField(m.SetConnectorName),
		"connectorVersion":    stringField(m.SetConnectorVersion),
		"enrollmentDateTime":  timeField(m.SetEnrollmentDateTime),
		"lastCheckinDateTime": timeField(m.SetLastCheckinDateTime),
		"machineName":         stringField(m.SetMachineName),
	}
}

// Serialize writes the set fields; the JSON writer skips nil ones, so a PATCH carries only what was set.
func (m *CertificateConnectorDetails) Serialize(w serialization.SerializationWriter) error {
	for _, f := range []struct {
		name  string
		value *string
	}{{"id", m.id}, {"@odata.type", m.odataType}, {"connectorName", m.connectorName}, {"connectorVersion", m.connectorVersion}} {
		if err := w.WriteStringValue(f.name, f.value); err != nil {
			return err
		}
	}
	if err := w.WriteTimeValue("enrollmentDateTime", m.enrollmentDateTime); err != nil {
		return err
	}
	if err := w.WriteTimeValue("lastCheckinDateTime", m.lastCheckinDateTime); err != nil {
		return err
	}
	if err := w.WriteStringValue("machineName", m.machineName); err != nil {
		return err
	}
	return w.WriteAdditionalData(m.additionalData)
}

// CertificateConnectorDetailsCollectionResponse is a page of the collection (Graph's
// BaseCollectionPaginationCountResponse with a typed value).
type CertificateConnectorDetailsCollectionResponse struct {
	additionalData map[string]any
	odataCount     *int64
	odataNextLink  *string
	value          []*CertificateConnectorDetails
}

// NewCertificateConnectorDetailsCollectionResponse returns an empty page.
func NewCertificateConnectorDetailsCollectionResponse() *CertificateConnectorDetailsCollectionResponse {
	return &CertificateConnectorDetailsCollectionResponse{additionalData: map[string]any{}}
}

// CreateCertificateConnectorDetailsCollectionResponseFromDiscriminatorValue is the page's ParsableFactory;
// page iterators take it to read the pages after the first.
func CreateCertificateConnectorDetailsCollectionResponseFromDiscriminatorValue(serialization.ParseNode) (serialization.Parsable, error) {
	return NewCertificateConnectorDetailsCollectionResponse(), nil
}

func (m *CertificateConnectorDetailsCollectionResponse) GetAdditionalData() map[string]any {
	return m.additionalData
}
func (m *CertificateConnectorDetailsCollectionResponse) SetAdditionalData(v map[string]any) {
	m.additionalData = v
}
func (m *CertificateConnectorDetailsCollectionResponse) GetOdataCount() *int64 { return m.odataCount }
func (m *CertificateConnectorDetailsCollectionResponse) GetOdataNextLink() *string {
	return m.odataNextLink
}
func (m *CertificateConnectorDetailsCollectionResponse) GetValue() []*CertificateConnectorDetails {
	return m.value
}

// GetFieldDeserializers reads @odata.count, @odata.nextLink and value.
func (m *CertificateConnectorDetailsCollectionResponse) GetFieldDeserializers() map[string]func(serialization.ParseNode) error {
	return map[string]func(serialization.ParseNode) error{
		"@odata.count": func(n serialization.ParseNode) error {
			v, err := n.GetInt64Value()
			m.odataCount = v
			return err
		},
		"@odata.nextLink": stringField(func(v *string) { m.odataNextLink = v }),
		"value": func(n serialization.ParseNode) error {
			items, err := n.GetCollectionOfObjectValues(CreateCertificateConnectorDetailsFromDiscriminatorValue)
			if err != nil {
				return err
			}
			m.value = make([]*CertificateConnectorDetails, len(items))
			for i, it := range items {
				m.value[i], _ = it.(*CertificateConnectorDetails)
			}
			return nil
		},
	}
}

// Serialize writes the page (clients never send one; Parsable requires it).
func (m *CertificateConnectorDetailsCollectionResponse) Serialize(w serialization.SerializationWriter) error {
	if err := w.WriteInt64Value("@odata.count", m.odataCount); err != nil {
		return err
	}
	if err := w.WriteStringValue("@odata.nextLink", m.odataNextLink); err != nil {
		return err
	}
	items := make([]serialization.Parsable, len(m.value))
	for i, v := range m.value {
		items[i] = v
	}
	if err := w.WriteCollectionOfObjectValues("value", items); err != nil {
		return err
	}
	return w.WriteAdditionalData(m.additionalData)
}

func stringField(set func(*string)) func(serialization.ParseNode) error {
	return func(n serialization.ParseNode) error {
		v, err := n.GetStringValue()
		if err != nil {
			return err
		}
		set(v)
		return nil
	}
}

func timeField(set func(*time.Time)) func(serialization.ParseNode) error {
	return func(n serialization.ParseNode) error {
		v, err := n.GetTimeValue()
		if err != nil {
			return err
		}
		set(v)
		return nil
	}
}
