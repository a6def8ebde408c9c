package bridge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/portico-mcp/portico/tenant"
)

// fetchedSpec is an OpenAPI document as the tenant's service served it.
type fetchedSpec struct {
	raw          []byte
	sha256       string
	etag         string
	lastModified string
	notModified  bool // the server answered 304 to a conditional GET
}

// fetchSpec downloads the tenant's OpenAPI document. With prev set it is a
// conditional GET (If-None-Match / If-Modified-Since from prev); a 304 comes
// back as notModified with no body. Every failure is a
// *tenant.ActivationError naming spec_url, with the cause in words.
func fetchSpec(ctx context.Context, client *http.Client, specURL string, limit int64, prev *tenant.SpecVersion) (*fetchedSpec, error) {
	unreachable := func(format string, a ...any) error {
		return &tenant.ActivationError{Code: "spec_unreachable", Field: "spec_url",
			Reason: "could not fetch the OpenAPI document from spec_url " + specURL + ": " + fmt.Sprintf(format, a...)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, specURL, nil)
	if err != nil {
		return nil, unreachable("%v", err)
	}
	req.Header.Set("Accept", "application/json, application/yaml;q=0.9, */*;q=0.5")
	if prev != nil {
		if prev.ETag != "" {
			req.Header.Set("If-None-Match", prev.ETag)
		}
		if prev.LastModified != "" {
			req.Header.Set("If-Modified-Since", prev.LastModified)
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is already in the message
		}
		if isTimeout(err) {
			return nil, unreachable("no complete answer within the %s fetch timeout", client.Timeout)
		}
		return nil, unreachable("%v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified && prev != nil {
		return &fetchedSpec{notModified: true, sha256: prev.SHA256, etag: prev.ETag, lastModified: prev.LastModified}, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, unreachable("the server answered %s", resp.Status)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		if isTimeout(err) {
			return nil, unreachable("no complete answer within the %s fetch timeout", client.Timeout)
		}
		return nil, unreachable("reading the body: %v", err)
	}
	if int64(len(raw)) > limit {
		return nil, &tenant.ActivationError{Code: "spec_too_large", Field: "spec_url",
			Reason: fmt.Sprintf("the OpenAPI document at spec_url %s is larger than the %d MiB limit", specURL, limit>>20)}
	}
	sum := sha256.Sum256(raw)
	return &fetchedSpec{
		raw:          raw,
		sha256:       hex.EncodeToString(sum[:]),
		etag:         resp.Header.Get("ETag"),
		lastModified: resp.Header.Get("Last-Modified"),
	}, nil
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &t) && t.Timeout()
}
