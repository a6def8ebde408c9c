package tenant

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// RateLimit is a token bucket: PerSecond on average, in bursts of up to
// Burst (at least 1). The zero value means no limit. It is the one type of
// every limit Portico enforces (MCP per tenant and per token, REST per
// tenant, per caller and per sign-in source, failed credentials).
type RateLimit struct {
	PerSecond float64
	Burst     int
}

// Off reports whether r limits nothing.
func (r RateLimit) Off() bool { return r.PerSecond <= 0 }

// BurstSize is Burst, at least 1.
func (r RateLimit) BurstSize() int { return max(r.Burst, 1) }

func (r RateLimit) String() string {
	return fmt.Sprintf("%g per second (bursts of %d)", r.PerSecond, r.BurstSize())
}

// TokenBuckets are the shared buckets behind fleet-wide limits
// (Store.LeaseTokens, in Postgres) and the count of live replicas.
type TokenBuckets interface {
	// LeaseTokens takes up to want tokens of bucket key (want < 0 gives
	// -want back) and returns how many it granted and the level left.
	LeaseTokens(ctx context.Context, key string, lim RateLimit, want int) (granted int, level float64, err error)
	// Heartbeat says replica is alive and returns how many replicas are.
	Heartbeat(ctx context.Context, replica string) (live int, err error)
}

// Want is one bucket a request must pass: Key names it fleet-wide.
type Want struct {
	Key   string
	Limit RateLimit
}

// Limiter enforces rate limits across every replica. Each replica leases
// small batches of tokens from a shared bucket per key (TokenBuckets) and
// spends them locally, so a call costs no database round trip: at most one
// lease per batch, and none for a refused call while the bucket is known to
// be empty. Leased tokens a replica does not spend within a second go back.
// When the shared buckets cannot be reached, each replica enforces its
// share, rate ÷ live replicas, until they answer again (Fallback, and
// FallbackDecisions counts the calls decided so). With no TokenBuckets
// every bucket is local to this process.
type Limiter struct {
	shared  TokenBuckets
	replica string
	log     *slog.Logger
	now     func() time.Time

	leaseTimeout time.Duration // one lease's budget before the replica falls back
	retryDown    time.Duration // how long to stay on the fallback after a failed lease
	idleReturn   time.Duration // unspent leased tokens go back after this
	leaseSpan    time.Duration // a lease asks for this long's worth of the rate

	live      atomic.Int64
	downUntil atomic.Int64 // unix nanoseconds
	fallbacks atomic.Int64
	leases    atomic.Int64

	mu      sync.Mutex
	buckets map[string]*bucket
	sweep   time.Time
}

type bucket struct {
	mu         sync.Mutex
	lim        RateLimit
	held       int           // leased, not yet spent
	lastUse    time.Time     // last decision
	emptyUntil time.Time     // the shared bucket has no whole token before this
	leasing    chan struct{} // closed when the lease in flight ends; nil when none
	local      *rate.Limiter // the process-local bucket (no shared buckets, or the fallback share)
	localShare int           // replicas local was sized for
}

// NewLimiter returns a limiter over shared (nil: local buckets only);
// replica names this process in the heartbeat.
func NewLimiter(shared TokenBuckets, replica string, log *slog.Logger) *Limiter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Limiter{shared: shared, replica: replica, log: log, now: time.Now,
		leaseTimeout: 250 * time.Millisecond, retryDown: 2 * time.Second, idleReturn: time.Second, leaseSpan: 100 * time.Millisecond,
		buckets: map[string]*bucket{}}
	l.live.Store(1)
	return l
}

// Fallback reports whether the limiter enforces local shares because the
// shared buckets are unreachable.
func (l *Limiter) Fallback() bool {
	return l != nil && l.shared != nil && l.now().UnixNano() < l.downUntil.Load()
}

// FallbackDecisions counts the requests decided by a local share.
func (l *Limiter) FallbackDecisions() int64 {
	if l == nil {
		return 0
	}
	return l.fallbacks.Load()
}

// Leases counts the round trips to the shared buckets.
func (l *Limiter) Leases() int64 {
	if l == nil {
		return 0
	}
	return l.leases.Load()
}

// LiveReplicas is the replica count the fallback shares are computed with.
func (l *Limiter) LiveReplicas() int { return int(l.live.Load()) }

// Allow takes one token from every bucket in ws, or none: it returns -1
// when all had one, else the index of the first that did not and how long
// until it will.
func (l *Limiter) Allow(ws ...Want) (refused int, retry time.Duration) {
	if l == nil {
		return -1, 0
	}
	now := l.now()
	var undo [4]func()
	n := 0
	for i, w := range ws {
		if w.Limit.Off() {
			continue
		}
		ok, d, u := l.take(now, w)
		if !ok {
			for j := range n {
				undo[j]()
			}
			return i, d
		}
		if u != nil && n < len(undo) {
			undo[n] = u
			n++
		}
	}
	return -1, 0
}

func (l *Limiter) bucket(key string, now time.Time) *bucket {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.sweep) > time.Minute {
		for k, b := range l.buckets {
			b.mu.Lock()
			// A local bucket goes only once full again, so forgetting it
			// resets nothing.
			idle := b.held == 0 && b.leasing == nil && now.Sub(b.lastUse) > time.Minute &&
				(b.local == nil || b.local.TokensAt(now) >= float64(b.local.Burst()))
			b.mu.Unlock()
			if idle {
				delete(l.buckets, k)
			}
		}
		l.sweep = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{}
		l.buckets[key] = b
	}
	return b
}

// take spends one token of w, returning how to give it back.
func (l *Limiter) take(now time.Time, w Want) (bool, time.Duration, func()) {
	b := l.bucket(w.Key, now)
	if l.shared == nil {
		return b.takeLocal(now, w.Limit, 1)
	}
	if now.UnixNano() < l.downUntil.Load() {
		l.fallbacks.Add(1)
		return b.takeLocal(now, w.Limit, l.LiveReplicas())
	}
	b.mu.Lock()
	b.lim, b.lastUse = w.Limit, now
	for range 3 {
		if b.held > 0 {
			b.held--
			if b.held == 0 && b.leasing == nil && !now.Before(b.emptyUntil) {
				b.leasing = make(chan struct{}) // the next batch, while this call proceeds
				go l.lease(w.Key, b, w.Limit)
			}
			b.mu.Unlock()
			return true, 0, func() { b.mu.Lock(); b.held++; b.mu.Unlock() }
		}
		if ch := b.leasing; ch != nil {
			b.mu.Unlock()
			t := time.NewTimer(l.leaseTimeout)
			select {
			case <-ch:
			case <-t.C:
			}
			t.Stop()
			b.mu.Lock()
			if b.leasing == ch { // the lease is too slow: decide locally
				break
			}
			continue
		}
		if now.Before(b.emptyUntil) {
			d := b.emptyUntil.Sub(now)
			b.mu.Unlock()
			return false, d, nil
		}
		b.leasing = make(chan struct{})
		b.mu.Unlock()
		l.lease(w.Key, b, w.Limit)
		b.mu.Lock()
		if l.now().UnixNano() < l.downUntil.Load() {
			break
		}
	}
	b.mu.Unlock()
	if l.now().UnixNano() < l.downUntil.Load() || b.waitingTooLong(l) {
		l.fallbacks.Add(1)
		return b.takeLocal(now, w.Limit, l.LiveReplicas())
	}
	return false, time.Duration(float64(time.Second) / w.Limit.PerSecond), nil
}

// waitingTooLong reports whether a lease is still in flight.
func (b *bucket) waitingTooLong(l *Limiter) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.leasing != nil
}

// lease asks the shared bucket for the next batch of tokens; b.leasing is
// set. It ends the lease (closing b.leasing) whatever happens.
func (l *Limiter) lease(key string, b *bucket, lim RateLimit) {
	live := l.LiveReplicas()
	want := int(math.Ceil(lim.PerSecond * l.leaseSpan.Seconds()))
	want = max(1, min(want, lim.BurstSize()/max(1, live)))
	ctx, cancel := context.WithTimeout(context.Background(), l.leaseTimeout)
	granted, level, err := l.shared.LeaseTokens(ctx, key, lim, want)
	cancel()
	l.leases.Add(1)
	now := l.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.leasing)
	b.leasing = nil
	if err != nil {
		if l.downUntil.Swap(now.Add(l.retryDown).UnixNano()) < now.UnixNano() {
			l.log.Warn("rate limits: the shared buckets are unreachable; enforcing this replica's share (rate ÷ live replicas)",
				"err", err, "live_replicas", live)
		}
		return
	}
	b.held += granted
	b.emptyUntil = time.Time{}
	if granted < want {
		b.emptyUntil = now.Add(time.Duration(max(0, 1-level) / lim.PerSecond * float64(time.Second)))
	}
}

// takeLocal spends one token of the process-local bucket sized for a share
// of 1/share of lim.
func (b *bucket) takeLocal(now time.Time, lim RateLimit, share int) (bool, time.Duration, func()) {
	share = max(1, share)
	r, burst := rate.Limit(lim.PerSecond/float64(share)), max(1, lim.BurstSize()/share)
	b.mu.Lock()
	switch {
	case b.local == nil:
		b.local = rate.NewLimiter(r, burst)
	case b.local.Limit() != r || b.local.Burst() != burst:
		// A changed limit keeps the bucket's level, so a settings change
		// is no way to reset it.
		b.local.SetLimitAt(now, r)
		b.local.SetBurstAt(now, burst)
	}
	b.localShare, b.lastUse = share, now
	lim2 := b.local
	b.mu.Unlock()
	res := lim2.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 || !res.OK() {
		res.CancelAt(now)
		return false, d, nil
	}
	return true, 0, func() { res.CancelAt(now) }
}

// Run keeps the limiter's view of the fleet: a heartbeat every 5 s (the
// live replica count the fallback shares use) and, every half second,
// unspent leased tokens given back to their shared buckets. It returns
// when ctx ends, giving back what it still holds.
func (l *Limiter) Run(ctx context.Context) {
	if l == nil || l.shared == nil {
		return
	}
	beat := func() {
		hctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if n, err := l.shared.Heartbeat(hctx, l.replica); err == nil && n > 0 {
			l.live.Store(int64(n))
		}
	}
	beat()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for i := 1; ; i++ {
		select {
		case <-ctx.Done():
			l.giveBack(context.Background(), time.Time{})
			return
		case <-tick.C:
		}
		l.giveBack(ctx, l.now().Add(-l.idleReturn))
		if i%10 == 0 {
			beat()
		}
	}
}

// giveBack returns the tokens of buckets unused since before (zero: all).
func (l *Limiter) giveBack(ctx context.Context, before time.Time) {
	l.mu.Lock()
	type ret struct {
		key string
		lim RateLimit
		n   int
	}
	var rs []ret
	for k, b := range l.buckets {
		b.mu.Lock()
		if b.held > 0 && b.leasing == nil && (before.IsZero() || b.lastUse.Before(before)) {
			rs = append(rs, ret{k, b.lim, b.held})
			b.held = 0
		}
		b.mu.Unlock()
	}
	l.mu.Unlock()
	for _, r := range rs {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		_, _, _ = l.shared.LeaseTokens(rctx, r.key, r.lim, -r.n) // lost on failure: the bucket refills anyway
		cancel()
	}
}
