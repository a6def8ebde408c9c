package tenant

import "time"

// LinkedTokens are one user's tokens at an upstream provider: what an
// oauth2_authorization_code credential sends on that user's calls.
type LinkedTokens struct {
	AccessToken  Secret
	RefreshToken Secret
	TokenType    string
	Expiry       time.Time // when the access token expires; zero when the provider did not say
	Scopes       []string  // what the provider granted, when it said
}

// LinkedAccount is who linked an upstream account for a credential, and
// when: what a tenant admin sees. It never carries a token.
type LinkedAccount struct {
	Credential  string     `json:"credential"`
	UserID      string     `json:"user_id"`
	Email       string     `json:"email"`
	Scopes      []string   `json:"scopes"`
	LinkedAt    time.Time  `json:"linked_at"`
	RefreshedAt *time.Time `json:"refreshed_at,omitempty"`
}

// LinkRequest is a link flow under way: which user links which credential
// of which tenant, the PKCE verifier Portico will send with the code, the
// redirect URI the provider was given, and the dashboard page to return to.
type LinkRequest struct {
	TenantID    string
	Credential  string
	UserID      string
	Verifier    Secret
	RedirectURI string
	ReturnTo    string
}

// LinkedAccountAAD binds a user's sealed upstream tokens to the tenant, the
// credential and the user: a row copied under another user or tenant does
// not open.
func LinkedAccountAAD(tenantID, credential, userID string) string {
	return "linked|" + tenantID + "|" + credential + "|" + userID
}

// LinkedRef is the Ref of a linked_account change.
func LinkedRef(credential, userID string) string { return credential + "/" + userID }
