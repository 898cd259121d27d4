package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/graphd/graphd/httpapi/auth"
	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
)

// authConfig is the token validation part of the configuration.
type authConfig struct {
	Mode     string // "jwt" or "none"
	JWKS     string // file or https URL; empty: graphd is its own issuer
	Issuer   string
	Audience string
	HS256    []byte
}

func loadAuthConfig(getenv func(string) string) (authConfig, []error) {
	var errs []error
	c := authConfig{
		Mode:     strings.ToLower(getenv("GRAPHD_AUTH")),
		JWKS:     getenv("GRAPHD_AUTH_JWKS"),
		Issuer:   getenv("GRAPHD_AUTH_ISSUER"),
		Audience: getenv("GRAPHD_AUTH_AUDIENCE"),
		HS256:    []byte(getenv("GRAPHD_AUTH_HS256_SECRET")),
	}
	switch c.Mode {
	case "":
		c.Mode = "jwt"
	case "jwt", "none":
	default:
		errs = append(errs, fmt.Errorf("GRAPHD_AUTH=%q: want jwt or none", c.Mode))
	}
	if c.JWKS != "" && (c.Issuer == "" || c.Audience == "") {
		errs = append(errs, errors.New("GRAPHD_AUTH_JWKS is set: set GRAPHD_AUTH_ISSUER and GRAPHD_AUTH_AUDIENCE too, as your identity provider issues them"))
	}
	if c.Issuer == "" {
		c.Issuer = auth.DefaultIssuer
	}
	if c.Audience == "" {
		c.Audience = auth.DefaultAudience
	}
	if len(c.HS256) > 0 && len(c.HS256) < 32 {
		errs = append(errs, errors.New("GRAPHD_AUTH_HS256_SECRET: use at least 32 bytes"))
	}
	return c, errs
}

// selfIssuer loads (creating on first use) graphd's signing key from the database.
func selfIssuer(ctx context.Context, st *store.Store, c authConfig) (*auth.Issuer, error) {
	der, err := st.Secret(ctx, auth.SigningKeySecret, auth.NewSigningKey)
	if err != nil {
		return nil, fmt.Errorf("token signing key: %w", err)
	}
	return auth.NewIssuer(der, c.Issuer, c.Audience)
}

// newVerifier builds the token verifier serve uses; the issuer is nil unless graphd is its own.
func newVerifier(ctx context.Context, st *store.Store, c authConfig, log *slog.Logger) (*auth.Verifier, *auth.Issuer, error) {
	vc := auth.VerifierConfig{Issuer: c.Issuer, Audience: c.Audience, HS256Secret: c.HS256}
	var iss *auth.Issuer
	if c.JWKS != "" {
		src, err := auth.NewJWKSSource(c.JWKS, nil)
		if err != nil {
			return nil, nil, err
		}
		if _, err := src.Keys(ctx); err != nil {
			// Not fatal: the identity provider may come up later; requests get 401 meanwhile.
			log.Warn("cannot load the JWKS yet", "jwks", c.JWKS, "error", err.Error())
		}
		vc.Keys = src
	} else {
		var err error
		if iss, err = selfIssuer(ctx, st, c); err != nil {
			return nil, nil, err
		}
		vc.Keys = auth.StaticKeys{Set: iss.JWKS()}
	}
	return auth.NewVerifier(vc), iss, nil
}

// token prints a token that this graphd accepts: `graphd token [--tenant ID] [--scopes LIST | --roles LIST]
// [--user NAME] [--ttl DURATION]`.
func token(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("token", "token [--tenant ID] [--scopes LIST | --roles LIST] [--user NAME] [--ttl 1h]",
		"Print a bearer token that this graphd accepts, signed with the key graphd keeps in its database\n(only when graphd is its own issuer, without GRAPHD_AUTH_JWKS).\n\n"+sameDatabaseHint)
	tenant := fs.String("tenant", odata.DevTenantID, "tenant GUID (the tid claim)")
	scopes := fs.String("scopes", "", "delegated permissions for scp, comma or space separated (default "+auth.PermReadWriteAll+" unless --roles is given)")
	roles := fs.String("roles", "", "application permissions for roles, comma or space separated")
	user := fs.String("user", "dev@graphd.local", "the subject (oid and sub claims)")
	ttl := fs.Duration("ttl", time.Hour, "lifetime")
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return errors.New("usage: graphd token [--tenant ID] [--scopes LIST | --roles LIST] [--user NAME] [--ttl 1h]")
	}
	tid, ok := odata.ParseGUID(*tenant)
	if !ok {
		return fmt.Errorf("--tenant %q is not a GUID", *tenant)
	}
	if *ttl <= 0 {
		return errors.New("--ttl must be positive")
	}
	req := auth.TokenRequest{TenantID: tid, Subject: *user, TTL: *ttl, Scopes: splitList(*scopes), Roles: splitList(*roles)}
	if len(req.Scopes) == 0 && len(req.Roles) == 0 {
		req.Scopes = []string{auth.PermReadWriteAll}
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	if cfg.Auth.JWKS != "" {
		return errors.New("graphd token signs with graphd's own key, but GRAPHD_AUTH_JWKS points at another issuer: get a token from that identity provider")
	}
	log := cliLogger(stderr, cfg, getenv)
	db, err := openDatabase(ctx, cfg, log, "token")
	if err != nil {
		return err
	}
	defer db.close(context.WithoutCancel(ctx))
	iss, err := selfIssuer(ctx, db.store, cfg.Auth)
	if err != nil {
		return err
	}
	tok, err := iss.Sign(req)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}
