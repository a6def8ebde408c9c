package bridge

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/portico-mcp/portico/bridge/openapi"
	"github.com/portico-mcp/portico/tenant"
)

// A session client opens a GET stream to hear list_changed. Any replica
// serves it: every replica applies every change of a tenant (sync.go), so
// the replica holding the stream notices the change itself and writes the
// notification once, whichever replica the change was made through.
//
// Each event's id is the fingerprint of the lists it reports on ("<tools
// hash>.<resources hash>", then ".<prompts hash>" when the tenant has
// prompts; the same on every replica for the same lists).
// A client that reconnects with Last-Event-ID, to this replica or another,
// is told at once about any list that changed while it was away.

// Change kinds a stream reports.
const (
	changedTools     = 1 << iota // notifications/tools/list_changed
	changedResources             // notifications/resources/list_changed
	changedPrompts               // notifications/prompts/list_changed
	endpointGone                 // the stream's toolset was deleted: end it
)

// keepAliveEvery sends an SSE comment on idle streams, so proxies that cut
// idle connections leave them open.
const keepAliveEvery = 25 * time.Second

// watchers are the open GET streams of one tenant on this replica.
type watchers struct {
	mu  sync.Mutex
	set map[*watcher]struct{}
}

type watcher struct {
	toolset string // the endpoint's toolset, "" for the tenant's own
	mu      sync.Mutex
	pending int // changed* bits not yet written
	wake    chan struct{}
}

func (ws *watchers) add(toolset string) (*watcher, func()) {
	w := &watcher{toolset: toolset, wake: make(chan struct{}, 1)}
	ws.mu.Lock()
	if ws.set == nil {
		ws.set = make(map[*watcher]struct{})
	}
	ws.set[w] = struct{}{}
	ws.mu.Unlock()
	return w, func() {
		ws.mu.Lock()
		delete(ws.set, w)
		ws.mu.Unlock()
	}
}

// publishChange tells every stream which of its endpoint's lists differ
// between old and st (a toolset's stream compares the toolset's views).
// Changes that arrive faster than a stream writes collapse into one
// notification per list.
func (ws *watchers) publishChange(old, st *state) {
	if old == nil {
		return
	}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for w := range ws.set {
		var bits int
		if nv := st.view(w.toolset); nv == nil {
			bits = endpointGone
		} else if ov := old.view(w.toolset); ov != nil {
			bits = changedBetween(ov, nv)
		} else {
			bits = changedTools | changedResources | changedPrompts
		}
		if bits == 0 {
			continue
		}
		w.mu.Lock()
		w.pending |= bits
		w.mu.Unlock()
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

func (w *watcher) take() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.pending
	w.pending = 0
	return b
}

// fingerprints identify what tools/list and resources/list return for st:
// equal on every replica that built the same tool set.
func (st *state) fingerprints() (tools, resources string) {
	st.fpOnce.Do(func() {
		th, rh := sha256.New(), sha256.New()
		if st.discovery {
			th.Write([]byte("discovery\x00"))
		} else if st.lean {
			th.Write([]byte("lean\x00"))
		}
		for _, op := range st.list {
			h := th
			if op.Kind == tenant.KindResource || op.Kind == tenant.KindResourceTemplate {
				h = rh
			} else if st.discovery {
				continue // listed as the meta-tools only
			}
			for _, part := range [][]byte{[]byte(op.Kind), []byte(op.Name), []byte(op.URI), []byte(op.Description), op.InputSchema, op.OutputSchema} {
				h.Write(part)
				h.Write([]byte{0})
			}
			if op.Transform != nil { // a transformed tool can differ in these alone
				h.Write([]byte(op.Title))
				h.Write(openapi.MustJSON(op.Annotations))
				h.Write([]byte{0})
			}
		}
		st.fpTools = hex.EncodeToString(th.Sum(nil)[:8])
		st.fpResources = hex.EncodeToString(rh.Sum(nil)[:8])
	})
	return st.fpTools, st.fpResources
}

// changedBetween is which lists differ between two states.
func changedBetween(old, st *state) int {
	if old == nil {
		return 0
	}
	ot, or := old.fingerprints()
	nt, nr := st.fingerprints()
	bits := 0
	if ot != nt {
		bits |= changedTools
	}
	if or != nr {
		bits |= changedResources
	}
	if old.prompts.fp != st.prompts.fp {
		bits |= changedPrompts
	}
	return bits
}

// eventID is the id of a session stream's events for st: the fingerprints
// of its lists.
func (st *state) eventID() string {
	t, res := st.fingerprints()
	if st.prompts.fp == "" {
		return t + "." + res
	}
	return t + "." + res + "." + st.prompts.fp
}

var (
	toolsChangedEvent     = []byte(`{"jsonrpc":"2.0","method":"notifications/tools/list_changed","params":{}}`)
	resourcesChangedEvent = []byte(`{"jsonrpc":"2.0","method":"notifications/resources/list_changed","params":{}}`)
	promptsChangedEvent   = []byte(`{"jsonrpc":"2.0","method":"notifications/prompts/list_changed","params":{}}`)
)

// serveSessionStream holds a session's GET stream open until the client
// leaves, the tenant stops, its token is revoked or the process shuts down
// (ctx ends in each case), writing list_changed as the tenant's lists change.
func (r *Runtime) serveSessionStream(ctx context.Context, w http.ResponseWriter, req *http.Request, l *live, version string) {
	var toolset string
	if info := requestInfo(ctx); info != nil {
		toolset = info.toolset
	}
	if last := req.Header.Get("Last-Event-ID"); strings.HasPrefix(last, callEventPrefix) {
		r.resumeCall(w, last)
		return
	}
	watch, done := l.watchers.add(toolset)
	defer done()
	h := w.Header()
	h["Cache-Control"] = hdrNoCache
	h["Content-Type"] = hdrEventStream
	h["Connection"] = hdrKeepAlive
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)

	write := func(id string, data []byte) bool {
		var b strings.Builder
		if data == nil {
			// retry: how long a client waits before reconnecting (to any
			// replica) when the stream drops.
			b.WriteString("event: prime\nretry: " + retryMillis + "\n")
		} else {
			b.WriteString("event: message\n")
		}
		b.WriteString("id: " + id + "\ndata: ")
		b.Write(data)
		b.WriteString("\n\n")
		if _, err := w.Write([]byte(b.String())); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	eventID := func() string { return l.view(ctx).eventID() }
	// What changed since the event the client last saw, when it resumes.
	if last := req.Header.Get("Last-Event-ID"); last != "" {
		lt, rest, _ := strings.Cut(last, ".")
		lr, lp, _ := strings.Cut(rest, ".")
		st := l.view(ctx)
		t, res := st.fingerprints()
		bits := 0
		if lp != st.prompts.fp {
			bits |= changedPrompts
		}
		if lt != t {
			bits |= changedTools
		}
		if lr != res {
			bits |= changedResources
		}
		watch.mu.Lock()
		watch.pending |= bits
		watch.mu.Unlock()
		if bits != 0 {
			watch.wake <- struct{}{}
		}
	} else if version >= "2025-11-25" {
		// 2025-11-25 (SEP-1699): prime the client with an event id, so it
		// can resume from here.
		if !write(eventID(), nil) {
			return
		}
	} else if rc.Flush() != nil {
		return
	}
	tick := time.NewTicker(keepAliveEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil || rc.Flush() != nil {
				return
			}
		case <-watch.wake:
			bits := watch.take()
			if bits&endpointGone != 0 {
				return
			}
			id := eventID()
			if bits&changedTools != 0 && !write(id, toolsChangedEvent) {
				return
			}
			if bits&changedResources != 0 && !write(id, resourcesChangedEvent) {
				return
			}
			if bits&changedPrompts != 0 && !write(id, promptsChangedEvent) {
				return
			}
		}
	}
}

// A POST answered as an event stream in a 2025-11-25 session starts with a
// priming event (SEP-1699): an id, a retry interval and no data, so a client
// whose connection drops before the answer can resume with a GET carrying
// Last-Event-ID, as the 2025-11-25 transport describes. Portico never ends
// such a stream early itself, and it keeps no copy of a call's answer: any
// replica may serve the resumed GET, and storing every answer where every
// replica could replay it would add a write per call. So a resumed call
// stream, on whichever replica, gets at once the one thing that is sure:
// a JSON-RPC error for the request, saying its answer was lost and that the
// call may or may not have run, and the stream ends. The client's request
// ends with that error instead of waiting for an answer that cannot come.
//
// The priming event's id is "c.<nonce>.<base64url(request id)>": the nonce
// keeps ids unique within the session when a client reuses a request id,
// and the request id is what the error must answer.

// callEventPrefix starts the ids of call streams' priming events; the GET
// stream's ids are hex fingerprints and never start so.
const callEventPrefix = "c."

// retryMillis is the reconnection delay streams announce (SSE retry).
const retryMillis = "1000"

// primes reports whether the POST req, decoded into msg, in session sid
// (sess; "" for none) is answered with a priming event: a request of a
// 2025-11-25 session, answered as an event stream, whose answer the SDK or
// the fast paths write with status 200 (a JSON body it is well formed as,
// with a request id the answer can name).
func (r *Runtime) primes(req *http.Request, sid string, sess sessionInfo, msg *rpcMessage) bool {
	if req.Method != http.MethodPost || sid == "" || r.mcpOpts.JSONResponse || len(req.Header.Values("Last-Event-ID")) > 0 {
		return false
	}
	version := req.Header.Get("Mcp-Protocol-Version")
	if version == "" {
		version = sess.version
	}
	if version < "2025-11-25" || version >= version20260728 {
		return false // older clients cannot read an event without data (SEP-1699); 2026-07-28 has no resumption
	}
	if ct, _, err := mime.ParseMediaType(req.Header.Get("Content-Type")); err != nil || ct != "application/json" {
		return false
	}
	_, ok := msg.strict()
	return ok && msg.method != ""
}

// prime writes the headers of an event stream and its priming event for the
// request with id (as the client sent it), flushed at once, and returns the
// writer the request's answer goes to: past the priming event the status and
// headers are sent, so it ignores the status its writers give.
func (r *Runtime) prime(w http.ResponseWriter, id json.RawMessage) http.ResponseWriter {
	h := w.Header()
	h["Cache-Control"] = hdrNoCache
	h["Content-Type"] = hdrEventStream
	h["Connection"] = hdrKeepAlive
	w.WriteHeader(http.StatusOK)
	var nonce [9]byte
	rand.Read(nonce[:]) // never fails (crypto/rand)
	eid := callEventPrefix + b64.EncodeToString(nonce[:]) + "." + b64.EncodeToString(canonicalID(id))
	io.WriteString(w, "event: prime\nretry: "+retryMillis+"\nid: "+eid+"\ndata: \n\n")
	http.NewResponseController(w).Flush()
	return primedWriter{w}
}

// primedWriter is a response whose status and headers went out with its
// priming event.
type primedWriter struct{ http.ResponseWriter }

func (primedWriter) WriteHeader(int) {}

func (p primedWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }

// resumeCall answers a GET that resumes a call stream from its priming
// event's id last: the request's lost answer, as a JSON-RPC error (above).
// An id this endpoint cannot have sent is a 400 saying so.
func (r *Runtime) resumeCall(w http.ResponseWriter, last string) {
	parts := strings.Split(last, ".")
	var id []byte
	if len(parts) == 3 {
		if raw, err := b64.DecodeString(parts[2]); err == nil && json.Valid(raw) {
			id = canonicalID(raw)
		}
	}
	if id == nil {
		writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("Last-Event-ID %q is not an event id of this endpoint; resume with the id of the last event received, or send the request again", cut(last, 80)))
		return
	}
	h := w.Header()
	h["Cache-Control"] = hdrNoCache
	h["Content-Type"] = hdrEventStream
	h["Connection"] = hdrKeepAlive
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, "event: message\ndata: "+rpcError(id, jsonrpcInternalError, "the stream carrying the answer to this request broke, and Portico keeps no answer to replay (any of its servers may take the resumed stream): the request may or may not have been carried out; send it again if that is safe")+"\n\n")
}
