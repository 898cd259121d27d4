package graphbeta

import (
	"fmt"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoft/kiota-abstractions-go/serialization"
)

// ODataError is Graph's error envelope {"error":{"code","message",…}} as the generated SDK models it: an
// ApiError, so the adapter records the status code and headers on it.
type ODataError struct {
	abstractions.ApiError
	additionalData map[string]any
	mainError      *MainError
}

// CreateODataErrorFromDiscriminatorValue is the error mapping's factory.
func CreateODataErrorFromDiscriminatorValue(serialization.ParseNode) (serialization.Parsable, error) {
	return &ODataError{additionalData: map[string]any{}}, nil
}

// errorMapping maps every 4xx and 5xx response to ODataError, as the generated request builders do.
var errorMapping = abstractions.ErrorMappings{"XXX": CreateODataErrorFromDiscriminatorValue}

// Error says status, code and message.
func (m *ODataError) Error() string {
	if m.mainError == nil {
		return m.ApiError.Error()
	}
	return fmt.Sprintf("graph error %d %s: %s", m.ResponseStatusCode, deref(m.mainError.code), deref(m.mainError.message))
}

// GetErrorEscaped is the error member (the generated name avoids clashing with Error()).
func (m *ODataError) GetErrorEscaped() *MainError                       { return m.mainError }
func (m *ODataError) GetAdditionalData() map[string]any                 { return m.additionalData }
func (m *ODataError) SetAdditionalData(v map[string]any)                { m.additionalData = v }
func (m *ODataError) Serialize(serialization.SerializationWriter) error { return nil }

func (m *ODataError) GetFieldDeserializers() map[string]func(serialization.ParseNode) error {
	return map[string]func(serialization.ParseNode) error{
		"error": func(n serialization.ParseNode) error {
			v, err := n.GetObjectValue(func(serialization.ParseNode) (serialization.Parsable, error) {
				return &MainError{additionalData: map[string]any{}}, nil
			})
			if err != nil {
				return err
			}
			m.mainError, _ = v.(*MainError)
			return nil
		},
	}
}

// MainError is the envelope's error member.
type MainError struct {
	additionalData map[string]any
	code, message  *string
}

func (m *MainError) GetCode() *string                                  { return m.code }
func (m *MainError) GetMessage() *string                               { return m.message }
func (m *MainError) GetAdditionalData() map[string]any                 { return m.additionalData }
func (m *MainError) SetAdditionalData(v map[string]any)                { m.additionalData = v }
func (m *MainError) Serialize(serialization.SerializationWriter) error { return nil }

func (m *MainError) GetFieldDeserializers() map[string]func(serialization.ParseNode) error {
	return map[string]func(serialization.ParseNode) error{
		"code":    stringField(func(v *string) { m.code = v }),
		"message": stringField(func(v *string) { m.message = v }),
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
