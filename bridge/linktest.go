package bridge

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/portico-mcp/portico/tenant"
)

// testAuthorizationCode checks an oauth2_authorization_code credential
// without a user's consent, which no test can give:
//
//   - the authorization endpoint answers, through the outbound guard;
//   - the token endpoint answers an authorization_code grant with a code
//     no one issued: invalid_grant means it authenticated the client first
//     (the client id and secret are right), invalid_client or HTTP 401
//     means they are wrong;
//   - when userID has linked an account for it, the stored refresh token
//     still gets a new access token (which is then kept, as a call's
//     refresh would keep it).
//
// Nothing secret is in the result: no secret, no token, no code.
func (r *Runtime) testAuthorizationCode(ctx context.Context, tenantID string, c tenant.LiveCredential, userID, redirectURI string) (tenant.CredentialTest, error) {
	// The authorization endpoint's redirects are the browser's to follow
	// (to a sign-in page, say); the token endpoint's are Portico's, each
	// hop through the guard.
	browser := r.GuardedClient(tokenFetchTimeout)
	browser.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	checks := []tenant.CredentialCheck{checkAuthorizeEndpoint(ctx, browser, c)}
	checks = append(checks, checkClientAuthentication(ctx, r.GuardedClient(tokenFetchTimeout), c, redirectURI)...)
	checks = append(checks, r.checkLinkedAccount(ctx, tenantID, c, userID))
	if err := ctx.Err(); err != nil {
		return tenant.CredentialTest{}, err
	}
	res := tenant.CredentialTest{OK: true, Checks: checks}
	msgs := make([]string, len(checks))
	for i, ch := range checks {
		msgs[i] = ch.Message
		if ch.Status == tenant.CheckFailed && res.OK {
			res.OK, res.Error = false, ch.Message
		}
	}
	res.Summary = strings.Join(msgs, " ")
	return res, nil
}

// endpointOf is u without its query and fragment, for messages.
func endpointOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	p.RawQuery, p.Fragment = "", ""
	return p.String()
}

// unreachable describes a failed request to endpoint what: refused by the
// outbound guard, or not answered.
func unreachable(check, what, endpoint string, err error) tenant.CredentialCheck {
	var blocked *BlockedAddressError
	if errors.As(err, &blocked) {
		return tenant.CredentialCheck{Check: check, Status: tenant.CheckFailed, Code: "blocked_address",
			Message: fmt.Sprintf("Portico may not call the %s %s: the outbound guard %s.", what, endpoint, strings.TrimPrefix(blocked.Error(), "refused"))}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return tenant.CredentialCheck{Check: check, Status: tenant.CheckFailed, Code: "unreachable",
		Message: fmt.Sprintf("The %s %s did not answer: %v.", what, endpoint, err)}
}

// checkAuthorizeEndpoint reports whether the authorization endpoint of c
// answers. Without a request's parameters a provider answers with an
// error page or a redirect to its sign-in: any answer but 404 and 5xx is
// an endpoint that is there.
func checkAuthorizeEndpoint(ctx context.Context, client *http.Client, c tenant.LiveCredential) tenant.CredentialCheck {
	const check = "authorize_endpoint"
	endpoint := endpointOf(c.AuthorizeURL)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.AuthorizeURL, nil)
	if err != nil {
		return tenant.CredentialCheck{Check: check, Status: tenant.CheckFailed, Message: fmt.Sprintf("The authorization endpoint %s is not a URL Portico can request: %v.", endpoint, err)}
	}
	resp, err := client.Do(req)
	if err != nil {
		return unreachable(check, "authorization endpoint", endpoint, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	code := fmt.Sprintf("HTTP %d", resp.StatusCode)
	if resp.StatusCode == http.StatusNotFound || resp.StatusCode >= 500 {
		return tenant.CredentialCheck{Check: check, Status: tenant.CheckFailed, Code: code,
			Message: fmt.Sprintf("The authorization endpoint %s answered %s %s: check authorize_url.", endpoint, code, http.StatusText(resp.StatusCode))}
	}
	return tenant.CredentialCheck{Check: check, Status: tenant.CheckOK, Code: code,
		Message: fmt.Sprintf("The authorization endpoint %s answers (%s).", endpoint, code)}
}

// checkClientAuthentication sends the token endpoint of c an
// authorization_code grant with a code no one issued, authenticated as the
// credential's client, and reads what the refusal says about the client.
func checkClientAuthentication(ctx context.Context, client *http.Client, c tenant.LiveCredential, redirectURI string) []tenant.CredentialCheck {
	endpoint := endpointOf(c.TokenURL)
	ctx, cancel := context.WithTimeout(ctx, tokenFetchTimeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, client)
	code := "portico-connection-test-" + rand.Text() // never issued, so never redeemable
	_, err := linkConfig(c, redirectURI).Exchange(ctx, code)
	if err == nil {
		return []tenant.CredentialCheck{
			{Check: "token_endpoint", Status: tenant.CheckOK, Message: fmt.Sprintf("The token endpoint %s answers.", endpoint)},
			{Check: "client_authentication", Status: tenant.CheckFailed, Message: fmt.Sprintf("The token endpoint %s issued a token for an authorization code no one issued: it does not check codes, or token_url names something else.", endpoint)},
		}
	}
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return []tenant.CredentialCheck{unreachable("token_endpoint", "token endpoint", endpoint, err),
			{Check: "client_authentication", Status: tenant.CheckSkipped, Message: "The client id and secret were not checked."}}
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	errCode := re.ErrorCode
	if errCode == "" {
		errCode = fmt.Sprintf("HTTP %d", status)
	}
	reached := tenant.CredentialCheck{Check: "token_endpoint", Status: tenant.CheckOK, Code: fmt.Sprintf("HTTP %d", status),
		Message: fmt.Sprintf("The token endpoint %s answers.", endpoint)}
	auth := tenant.CredentialCheck{Check: "client_authentication", Status: tenant.CheckFailed, Code: errCode}
	switch {
	case re.ErrorCode == "invalid_grant":
		auth.Status = tenant.CheckOK
		auth.Message = fmt.Sprintf("The token endpoint accepted client id %q and its secret: it refused only the made-up authorization code (invalid_grant), as it should.", c.ClientID)
	case re.ErrorCode == "invalid_client" || status == http.StatusUnauthorized:
		auth.Message = fmt.Sprintf("The token endpoint refused client id %q or its secret (%s): correct client_id or set the client secret again (auth_method %s).", c.ClientID, errCode, authMethodOf(c))
	case re.ErrorCode == "unauthorized_client" || re.ErrorCode == "unsupported_grant_type":
		auth.Message = fmt.Sprintf("The token endpoint does not let client %q use the authorization_code grant (%s): allow it in the provider's settings for this client.", c.ClientID, errCode)
	case status == http.StatusNotFound || status >= 500:
		reached.Status = tenant.CheckFailed
		reached.Message = fmt.Sprintf("The token endpoint %s answered HTTP %d %s: check token_url.", endpoint, status, http.StatusText(status))
		auth.Status, auth.Code = tenant.CheckSkipped, ""
		auth.Message = "The client id and secret were not checked."
	default:
		auth.Message = fmt.Sprintf("The token endpoint answered %s to a made-up authorization code, which does not tell whether client id %q and its secret are right; check the provider's settings.", errCode, c.ClientID)
	}
	return []tenant.CredentialCheck{reached, auth}
}

func authMethodOf(c tenant.LiveCredential) string {
	if c.AuthMethod == "" {
		return tenant.AuthMethodBasic
	}
	return c.AuthMethod
}

// checkLinkedAccount reports on userID's own linked account for c: none,
// or whether its refresh token still gets an access token.
func (r *Runtime) checkLinkedAccount(ctx context.Context, tenantID string, c tenant.LiveCredential, userID string) tenant.CredentialCheck {
	const check = "linked_account"
	la := r.opts.Linked
	switch {
	case userID == "":
		return tenant.CredentialCheck{Check: check, Status: tenant.CheckSkipped, Message: "No user's linked account was checked: this test came with an API key that belongs to no user."}
	case la == nil:
		return tenant.CredentialCheck{Check: check, Status: tenant.CheckSkipped, Message: "This Portico keeps no linked accounts."}
	}
	link := la.LinkURL(tenantID, c.Name)
	cur, err := la.store.LinkedAccountTokens(ctx, tenantID, c.Name, userID)
	if errors.Is(err, tenant.ErrNotFound) {
		return tenant.CredentialCheck{Check: check, Status: tenant.CheckSkipped, Code: "not_linked",
			Message: fmt.Sprintf("You have not linked your %s account for this credential; open %s to link it.", providerName(c), link)}
	}
	if err != nil {
		la.log.Error("linked account unreadable", "tenant", tenantID, "credential", c.Name, "err", err)
		return tenant.CredentialCheck{Check: check, Status: tenant.CheckFailed, Message: "Your linked account could not be read; retry, and if it persists an operator should check the log."}
	}
	if cur.RefreshToken == "" {
		if !cur.Expiry.IsZero() && !la.now().Before(cur.Expiry) {
			return tenant.CredentialCheck{Check: check, Status: tenant.CheckFailed, Code: "expired",
				Message: fmt.Sprintf("Your linked %s account's access token expired and the provider gave no refresh token; open %s to link it again.", providerName(c), link)}
		}
		return tenant.CredentialCheck{Check: check, Status: tenant.CheckOK,
			Message: fmt.Sprintf("Your %s account is linked%s; the provider gave no refresh token, so you will link again when it expires.", providerName(c), validFor(cur.Expiry, la.now()))}
	}
	next, err := la.store.RefreshLinkedAccount(ctx, tenantID, c.Name, userID, func(cur tenant.LinkedTokens) (tenant.LinkedTokens, bool, error) {
		return la.refresh(ctx, c, cur)
	})
	la.forget(tenantID, tenant.LinkedRef(c.Name, userID))
	switch {
	case errors.Is(err, tenant.ErrNotFound):
		return tenant.CredentialCheck{Check: check, Status: tenant.CheckSkipped, Code: "not_linked",
			Message: fmt.Sprintf("You have not linked your %s account for this credential; open %s to link it.", providerName(c), link)}
	case errors.Is(err, errRelink):
		return tenant.CredentialCheck{Check: check, Status: tenant.CheckFailed, Code: "invalid_grant",
			Message: fmt.Sprintf("The provider refused your linked account's refresh token (invalid_grant); open %s to link it again.", link)}
	case err != nil:
		var re *oauth2.RetrieveError
		var ue *url.Error
		if errors.As(err, &re) || errors.As(err, &ue) {
			ch := tenant.CredentialCheck{Check: check, Status: tenant.CheckFailed, Message: describeTokenError(c, "refresh your access token", err).Error() + "."}
			if re != nil {
				ch.Code = re.ErrorCode
			}
			return ch
		}
		la.log.Error("refresh linked account", "tenant", tenantID, "credential", c.Name, "err", err)
		return tenant.CredentialCheck{Check: check, Status: tenant.CheckFailed, Message: "Your linked account could not be refreshed; retry, and if it persists an operator should check the log."}
	}
	return tenant.CredentialCheck{Check: check, Status: tenant.CheckOK,
		Message: fmt.Sprintf("Your %s account is linked, and its refresh token got a new access token%s.", providerName(c), validFor(next.Expiry, la.now()))}
}

// validFor says how long a token expiring at exp is still valid at now.
func validFor(exp, now time.Time) string {
	if exp.IsZero() {
		return ""
	}
	return fmt.Sprintf(" (valid for %d s)", int(exp.Sub(now).Round(time.Second).Seconds()))
}
