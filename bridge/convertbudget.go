package bridge

import (
	"context"
	"fmt"

	"golang.org/x/sync/semaphore"

	"github.com/portico-mcp/portico/tenant"
)

// Conversion memory is estimated before a document is converted, from what
// the corpus measured (docs/benchmarks.md, Conversion): libopenapi's model
// peaks at ~40-65 bytes of heap per document byte (GitHub 13 MB → 335-487
// MB, Kubernetes 4.1 MB → 237-269 MB), and a document of many small
// operations costs more per byte (20k operations in 3.8 MB → ~500 MB, ~25
// KiB per operation). The larger of the two products is the estimate.
const (
	convertBytesPerDocByte = 60
	convertBytesPerOp      = 25 << 10
)

// estimateConvertBytes is the heap a conversion of a document of docBytes
// bytes and ops operations is expected to peak at.
func estimateConvertBytes(docBytes, ops int) int64 {
	return max(int64(docBytes)*convertBytesPerDocByte, int64(ops)*convertBytesPerOp)
}

// convertBudget bounds conversions running at once on this replica by their
// estimated memory (a weighted semaphore over ConvertMemory bytes) and by
// count (ConvertConcurrency, since each one keeps a core busy). Preview,
// activation, refresh and the report all take from the same budget. A
// document estimated above the whole budget still converts, alone.
type convertBudget struct {
	mem   *semaphore.Weighted
	total int64
	slots *semaphore.Weighted
	// previews bounds previews in flight (fetch, wait, conversion): each
	// holds its fetched document while it waits, so without a bound many
	// waiting previews of a 13 MB document hold more than the conversion.
	previews   *semaphore.Weighted
	previewMax int
}

func newConvertBudget(memBytes int64, slots int) *convertBudget {
	return &convertBudget{mem: semaphore.NewWeighted(memBytes), total: memBytes, slots: semaphore.NewWeighted(int64(slots)),
		previews: semaphore.NewWeighted(int64(2 * slots)), previewMax: 2 * slots}
}

// acquire waits until a conversion estimated at est bytes fits, or ctx
// ends; release gives back what it took. Memory is taken before the slot,
// always in that order, so two waiters cannot hold one each.
func (b *convertBudget) acquire(ctx context.Context, est int64) (release func(), err error) {
	w := min(max(est, 1), b.total)
	if err := b.mem.Acquire(ctx, w); err != nil {
		return nil, err
	}
	if err := b.slots.Acquire(ctx, 1); err != nil {
		b.mem.Release(w)
		return nil, err
	}
	return func() { b.slots.Release(1); b.mem.Release(w) }, nil
}

// busyError is what a caller that gave up waiting for the budget gets: 503
// with Retry-After through the REST API, since nothing is wrong with the
// document and the same request will succeed once the replica is idle.
// previewsBusy is the answer to a preview beyond the previews in flight.
func (b *convertBudget) previewsBusy() *tenant.ActivationError {
	return &tenant.ActivationError{Code: "converter_busy", Field: "spec_url",
		Reason: fmt.Sprintf("this replica is already previewing %d documents, its limit; retry shortly", b.previewMax)}
}

func (b *convertBudget) busyError(est int64) *tenant.ActivationError {
	return &tenant.ActivationError{Code: "converter_busy", Field: "spec_url",
		Reason: fmt.Sprintf("this replica's conversion budget (%d MB, PORTICO_CONVERT_MEMORY_MB) is taken by other conversions and this document (estimated %d MB) could not start in time; retry shortly",
			b.total>>20, max(est>>20, 1))}
}
