package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// SigningKeySecret names graphd's own signing key among the server secrets the database keeps (store.Secret), so
// that every replica and restart signs and verifies with the same key.
const SigningKeySecret = "token-signing-key-es256-v1"

// Defaults for graphd as its own issuer, shaped like Entra ID's v2 multi-tenant issuer.
const (
	DefaultIssuer   = "https://login.graphd.local/{tenantid}/v2.0"
	DefaultAudience = "https://graph.microsoft.com"
)

// Issuer signs tokens with graphd's own ES256 key, which lives in the database so that every replica and
// restart agrees on it.
type Issuer struct {
	key      *ecdsa.PrivateKey
	kid      string
	issuer   string
	audience string
}

// NewSigningKey makes a new private key in PKCS #8 DER, the form graphd stores.
func NewSigningKey() ([]byte, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return x509.MarshalPKCS8PrivateKey(k)
}

// NewIssuer loads a PKCS #8 key.
func NewIssuer(pkcs8 []byte, issuer, audience string) (*Issuer, error) {
	k, err := x509.ParsePKCS8PrivateKey(pkcs8)
	if err != nil {
		return nil, fmt.Errorf("auth: signing key: %w", err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("auth: signing key is not an ECDSA P-256 key")
	}
	pub, err := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(pub)
	return &Issuer{key: ec, kid: base64.RawURLEncoding.EncodeToString(sum[:12]), issuer: issuer, audience: audience}, nil
}

// JWKS is the public key set to publish and to verify with.
func (i *Issuer) JWKS() *jose.JSONWebKeySet {
	return &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &i.key.PublicKey, KeyID: i.kid, Algorithm: string(jose.ES256), Use: "sig",
	}}}
}

// TokenRequest describes a token to mint.
type TokenRequest struct {
	TenantID string
	Subject  string
	Scopes   []string // delegated: written to scp
	Roles    []string // application: written to roles
	TTL      time.Duration
	Now      time.Time
}

// Sign mints a token this graphd accepts.
func (i *Issuer) Sign(r TokenRequest) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: i.key, KeyID: i.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	if r.Now.IsZero() {
		r.Now = time.Now()
	}
	c := claims{
		Claims: jwt.Claims{
			Issuer:    strings.ReplaceAll(i.issuer, "{tenantid}", r.TenantID),
			Audience:  jwt.Audience{i.audience},
			Subject:   r.Subject,
			IssuedAt:  jwt.NewNumericDate(r.Now),
			NotBefore: jwt.NewNumericDate(r.Now),
			Expiry:    jwt.NewNumericDate(r.Now.Add(r.TTL)),
		},
		TenantID: r.TenantID,
		ObjectID: r.Subject,
		Roles:    r.Roles,
	}
	if len(r.Scopes) > 0 {
		c.Scope = strings.Join(r.Scopes, " ")
	}
	return jwt.Signed(signer).Claims(c).Serialize()
}
