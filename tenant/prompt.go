package tenant

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// A Prompt is a message template a tenant serves to MCP clients
// (prompts/list, prompts/get): its messages name the prompt's arguments as
// {{argument}} placeholders, filled in when a client gets it. A prompt is
// the tenant's own text, not derived from the OpenAPI document, so it
// survives every spec change.
type Prompt struct {
	Name        string           `json:"name"`
	Title       string           `json:"title,omitempty"`
	Description string           `json:"description"`
	Arguments   []PromptArgument `json:"arguments"`
	Messages    []PromptMessage  `json:"messages"`
	// Toolsets are the toolsets whose endpoints also serve the prompt; the
	// tenant's own endpoint serves every prompt.
	Toolsets  []string  `json:"toolsets,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// PromptArgument is one argument of a prompt. Completions are the values
// completion/complete offers for it (those starting with what the client
// typed); none means it completes to nothing.
type PromptArgument struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Required    bool     `json:"required"`
	Completions []string `json:"completions,omitempty"`
}

// PromptMessage is one message of a prompt: its role and exactly one of
// text, an image or an embedded resource.
type PromptMessage struct {
	Role     string          `json:"role"`
	Text     string          `json:"text,omitempty"`
	Image    *PromptImage    `json:"image,omitempty"`
	Resource *PromptResource `json:"resource,omitempty"`
}

// PromptImage is image content: base64 data and its media type.
type PromptImage struct {
	Data     string `json:"data"`
	MIMEType string `json:"mime_type"`
}

// PromptResource is an embedded resource: its URI, media type and text.
// The URI and the text may hold placeholders.
type PromptResource struct {
	URI      string `json:"uri"`
	MIMEType string `json:"mime_type,omitempty"`
	Text     string `json:"text"`
}

// Limits of one prompt, so a listing stays small enough to send.
const (
	maxPromptArguments   = 50
	maxPromptMessages    = 50
	maxPromptTextBytes   = 64 << 10
	maxPromptImageBytes  = 1 << 20
	maxPromptCompletions = 1000
	maxCompletionBytes   = 500
	maxPromptDescBytes   = 4096
)

var promptNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// placeholderRE matches {{argument}}, with optional spaces inside the braces.
var placeholderRE = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)

// Validate checks p's shape and that every placeholder names an argument;
// the error is an *InvalidError naming each bad field.
func (p *Prompt) Validate() error {
	var inv InvalidError
	if p.Name == "" {
		inv.Add("name", "is required: 1-64 of letters, digits, '_', '.', '-'")
	} else if !promptNameRE.MatchString(p.Name) {
		inv.Add("name", fmt.Sprintf("%q must be 1-64 of letters, digits, '_', '.', '-'", p.Name))
	}
	if len(p.Title) > 200 {
		inv.Add("title", "must be at most 200 bytes")
	}
	if len(p.Description) > maxPromptDescBytes {
		inv.Add("description", fmt.Sprintf("must be at most %d bytes", maxPromptDescBytes))
	}
	if len(p.Arguments) > maxPromptArguments {
		inv.Add("arguments", fmt.Sprintf("has %d entries; at most %d are allowed", len(p.Arguments), maxPromptArguments))
	}
	args := map[string]bool{}
	for i, a := range p.Arguments {
		f := fmt.Sprintf("arguments[%d]", i)
		switch {
		case a.Name == "":
			inv.Add(f+".name", "is required: 1-64 of letters, digits, '_', '.', '-'")
		case !promptNameRE.MatchString(a.Name):
			inv.Add(f+".name", fmt.Sprintf("%q must be 1-64 of letters, digits, '_', '.', '-'", a.Name))
		case args[a.Name]:
			inv.Add(f+".name", fmt.Sprintf("%q is already the name of an earlier argument; argument names must be unique", a.Name))
		}
		args[a.Name] = true
		if len(a.Description) > maxPromptDescBytes {
			inv.Add(f+".description", fmt.Sprintf("must be at most %d bytes", maxPromptDescBytes))
		}
		if len(a.Completions) > maxPromptCompletions {
			inv.Add(f+".completions", fmt.Sprintf("has %d values; at most %d are allowed", len(a.Completions), maxPromptCompletions))
		}
		for j, v := range a.Completions {
			if v == "" || len(v) > maxCompletionBytes {
				inv.Add(fmt.Sprintf("%s.completions[%d]", f, j), fmt.Sprintf("must be 1-%d bytes", maxCompletionBytes))
			}
		}
	}
	for i, ts := range p.Toolsets {
		if !toolsetNameRE.MatchString(ts) {
			inv.Add(fmt.Sprintf("toolsets[%d]", i), fmt.Sprintf("%q is not a toolset name; GET /api/v1/tenants/{id}/toolsets lists them", ts))
		}
	}
	if len(p.Messages) == 0 {
		inv.Add("messages", "is required: at least one message, e.g. {\"role\":\"user\",\"text\":\"…\"}")
	} else if len(p.Messages) > maxPromptMessages {
		inv.Add("messages", fmt.Sprintf("has %d entries; at most %d are allowed", len(p.Messages), maxPromptMessages))
	}
	placeholders := func(field, s string) {
		for _, m := range placeholderRE.FindAllStringSubmatch(s, -1) {
			if !args[m[1]] {
				inv.Add(field, fmt.Sprintf("has the placeholder %s, which names no argument of this prompt; declare %q in arguments or remove the placeholder%s", m[0], m[1], known(args)))
			}
		}
	}
	for i, m := range p.Messages {
		f := fmt.Sprintf("messages[%d]", i)
		if m.Role != "user" && m.Role != "assistant" {
			inv.Add(f+".role", fmt.Sprintf("%q must be user or assistant", m.Role))
		}
		n := 0
		if m.Text != "" {
			n++
		}
		if m.Image != nil {
			n++
		}
		if m.Resource != nil {
			n++
		}
		if n != 1 {
			inv.Add(f, "must have exactly one of text, image ({\"data\",\"mime_type\"}) or resource ({\"uri\",\"mime_type\",\"text\"})")
			continue
		}
		switch {
		case m.Text != "":
			if len(m.Text) > maxPromptTextBytes {
				inv.Add(f+".text", fmt.Sprintf("must be at most %d bytes", maxPromptTextBytes))
			}
			placeholders(f+".text", m.Text)
		case m.Image != nil:
			if !strings.HasPrefix(m.Image.MIMEType, "image/") {
				inv.Add(f+".image.mime_type", fmt.Sprintf("%q must be an image media type, e.g. image/png", m.Image.MIMEType))
			}
			if b, err := base64.StdEncoding.DecodeString(m.Image.Data); err != nil || len(b) == 0 {
				inv.Add(f+".image.data", "must be the image's bytes in standard base64")
			} else if len(b) > maxPromptImageBytes {
				inv.Add(f+".image.data", fmt.Sprintf("is %d bytes; at most %d are allowed", len(b), maxPromptImageBytes))
			}
		case m.Resource != nil:
			if m.Resource.URI == "" {
				inv.Add(f+".resource.uri", "is required: the URI of the embedded resource (may hold placeholders)")
			}
			if m.Resource.Text == "" {
				inv.Add(f+".resource.text", "is required: the resource's text (may hold placeholders)")
			} else if len(m.Resource.Text) > maxPromptTextBytes {
				inv.Add(f+".resource.text", fmt.Sprintf("must be at most %d bytes", maxPromptTextBytes))
			}
			placeholders(f+".resource.uri", m.Resource.URI)
			placeholders(f+".resource.text", m.Resource.Text)
		}
	}
	return inv.Err()
}

func known(args map[string]bool) string {
	if len(args) == 0 {
		return " (this prompt has no arguments)"
	}
	names := make([]string, 0, len(args))
	for n := range args {
		names = append(names, n)
	}
	slices.Sort(names)
	return " (its arguments: " + strings.Join(names, ", ") + ")"
}

// Render fills the placeholders of s with args; an argument not given is
// empty. Validate made sure every placeholder names an argument.
func Render(s string, args map[string]string) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	return placeholderRE.ReplaceAllStringFunc(s, func(m string) string {
		return args[placeholderRE.FindStringSubmatch(m)[1]]
	})
}
