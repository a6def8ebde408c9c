package bridge

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// ExternalAuth validates access tokens issued by an operator-named OAuth
// authorization server: JWTs signed with a key from its JWKS, from its
// issuer, and with the tenant endpoint's URL as audience, so a token works
// only on the tenant it was issued for. The JWKS is kept by keyfunc
// (jwkset): downloaded at start, refreshed hourly, and again when a token
// names an unknown key, at most every jwksRefetch.
type ExternalAuth struct {
	issuer string
	keys   keyfunc.Keyfunc
}

// jwksRefetch is the least time between two JWKS downloads for unknown
// keys, so tokens naming unknown keys cannot make Portico hammer the server.
const jwksRefetch = 30 * time.Second

// NewExternalAuth returns a validator for tokens of issuer, whose signing
// keys are published at jwksURL. Its background refresh ends with ctx. An
// unreachable JWKS at start is logged, not fatal: tokens fail until a
// download succeeds.
func NewExternalAuth(ctx context.Context, issuer, jwksURL string, log *slog.Logger) (*ExternalAuth, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	remote, err := jwkset.NewStorageFromHTTP(jwksURL, jwkset.HTTPClientStorageOptions{
		Client:                    &http.Client{Timeout: 10 * time.Second, Transport: limitedBodies{http.DefaultTransport, maxJWKSBytes}},
		Ctx:                       ctx,
		HTTPTimeout:               10 * time.Second,
		NoErrorReturnFirstHTTPReq: true,
		RefreshInterval:           time.Hour,
		RefreshErrorHandler: func(ctx context.Context, err error) {
			log.WarnContext(ctx, "refresh the OAuth issuer's JWKS", "url", jwksURL, "error", err)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("JWKS %s: %w", jwksURL, err)
	}
	store, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs:          map[string]jwkset.Storage{jwksURL: remote},
		RefreshUnknownKID: rate.NewLimiter(rate.Every(jwksRefetch), 1),
		// A request never waits for the limiter: an unknown key is refused
		// at once when the last download is too recent.
		RateLimitWaitMax: time.Millisecond,
	})
	if err != nil {
		return nil, fmt.Errorf("JWKS %s: %w", jwksURL, err)
	}
	keys, err := keyfunc.New(keyfunc.Options{Ctx: ctx, Storage: store, UseWhitelist: []jwkset.USE{jwkset.UseSig, ""}})
	if err != nil {
		return nil, fmt.Errorf("JWKS %s: %w", jwksURL, err)
	}
	return &ExternalAuth{issuer: issuer, keys: keys}, nil
}

// Issuer returns the authorization server's issuer identifier.
func (a *ExternalAuth) Issuer() string { return a.issuer }

// looksLikeJWT reports whether tok has the three dot-separated parts of a JWS.
func looksLikeJWT(tok string) bool { return strings.Count(tok, ".") == 2 }

// verify checks raw for audience and returns its subject and expiry.
func (a *ExternalAuth) verify(ctx context.Context, raw, audience string) (string, time.Time, error) {
	tok, err := jwt.Parse(raw, a.keys.KeyfuncCtx(ctx), jwt.WithIssuer(a.issuer), jwt.WithAudience(audience), jwt.WithExpirationRequired(),
		jwt.WithValidMethods([]string{"RS256", "RS384", "RS512", "PS256", "ES256", "ES384"}), jwt.WithLeeway(30*time.Second))
	if err != nil {
		return "", time.Time{}, err
	}
	sub, _ := tok.Claims.GetSubject()
	exp, _ := tok.Claims.GetExpirationTime()
	return sub, exp.Time, nil
}

// maxJWKSBytes bounds a JWKS download; real ones are a few kilobytes.
const maxJWKSBytes = 1 << 20

// limitedBodies fails the reading of a response body past max bytes, so a
// misbehaving JWKS endpoint cannot make Portico buffer without end.
type limitedBodies struct {
	next http.RoundTripper
	max  int64
}

func (l limitedBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, left: l.max}
	return resp, nil
}

type limitedBody struct {
	io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, fmt.Errorf("the JWKS is larger than %d bytes", maxJWKSBytes)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}
