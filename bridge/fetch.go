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
}

// fetchSpec downloads the tenant's OpenAPI document. Every failure is a
// *tenant.ActivationError naming spec_url, with the cause in words.
func fetchSpec(ctx context.Context, client *http.Client, specURL string, limit int64) (*fetchedSpec, error) {
	unreachable := func(format string, a ...any) error {
		return &tenant.ActivationError{Code: "spec_unreachable", Field: "spec_url",
			Reason: "could not fetch the OpenAPI document from spec_url " + specURL + ": " + fmt.Sprintf(format, a...)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, specURL, nil)
	if err != nil {
		return nil, unreachable("%v", err)
	}
	req.Header.Set("Accept", "application/json, application/yaml;q=0.9, */*;q=0.5")
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is already in the message
		}
		return nil, unreachable("%v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, unreachable("the server answered %s", resp.Status)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
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
