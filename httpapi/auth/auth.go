// Package auth validates bearer tokens as Microsoft Graph does for the seed's permission table: signed JWTs
// whose tid selects the tenant and whose scp (delegated) or roles (application) grant
// DeviceManagementConfiguration.Read.All or .ReadWrite.All. It also lets graphd act as its own token issuer
// for local use. Signature work is go-jose's; this package only decides which key and which claims to accept.
package auth

import (
	"errors"
	"strings"
)

// Permission names as Graph spells them.
const (
	PermReadAll      = "DeviceManagementConfiguration.Read.All"
	PermReadWriteAll = "DeviceManagementConfiguration.ReadWrite.All"
)

// PersonalAccountsTenant is the tid of personal Microsoft accounts, which the seed does not support.
const PersonalAccountsTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"

// Access is what an operation needs.
type Access uint8

const (
	AccessRead  Access = iota + 1 // Read.All or ReadWrite.All
	AccessWrite                   // ReadWrite.All
)

// Principal is the caller a valid token describes.
type Principal struct {
	TenantID string   // lower-case GUID from tid
	Subject  string   // oid, else sub
	Scopes   []string // delegated permissions, from scp
	Roles    []string // application permissions, from roles
}

// Allows reports whether the principal holds a permission that grants access: delegated and application
// permissions both count, so a token carrying both is judged on their union.
func (p Principal) Allows(a Access) bool {
	for _, list := range [][]string{p.Scopes, p.Roles} {
		for _, perm := range list {
			if strings.EqualFold(perm, PermReadWriteAll) || (a == AccessRead && strings.EqualFold(perm, PermReadAll)) {
				return true
			}
		}
	}
	return false
}

// Required names the permissions that grant a, least privileged first, for the 403 message.
func Required(a Access) string {
	if a == AccessRead {
		return PermReadAll + ", " + PermReadWriteAll
	}
	return PermReadWriteAll
}

// InvalidTokenError says why a token was refused; the reason is safe to show the client.
type InvalidTokenError struct{ Reason string }

func (e *InvalidTokenError) Error() string { return "invalid token: " + e.Reason }

func invalidToken(reason string) error { return &InvalidTokenError{Reason: reason} }

// IsInvalidToken reports whether err is a refused token.
func IsInvalidToken(err error) bool {
	var e *InvalidTokenError
	return errors.As(err, &e)
}

// BearerToken extracts the token from an Authorization header value.
func BearerToken(header string) (string, error) {
	header = strings.TrimSpace(header)
	// "Bearer" alone is what a client sends with an empty token once the header's trailing space is trimmed.
	if header == "" || strings.EqualFold(header, "Bearer") {
		return "", invalidToken("Access token is empty.")
	}
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", invalidToken("The Authorization header must use the Bearer scheme.")
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return "", invalidToken("Access token is empty.")
	}
	return token, nil
}
