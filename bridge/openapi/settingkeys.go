package openapi

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/portico-mcp/portico/tenant"
)

// CheckSettingKeys reports every key of the settings keyed by operation
// (names, uris, timeouts_ms) that names no operation of the document whose
// operation keys are keys (tenant.ConversionReport.OperationKeys): such a
// key would be ignored silently, so it is refused with the closest key
// that does exist. A key is an operationId or "METHOD /path" (the method
// in any case). It returns nil when every key matches.
func CheckSettingKeys(keys []string, s tenant.Settings) error {
	known := make(map[string]bool, len(keys))
	for _, k := range keys {
		known[normalizeKey(k)] = true
	}
	var inv tenant.InvalidError
	check := func(setting string, m map[string]bool) {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if known[normalizeKey(k)] {
				continue
			}
			msg := "matches no operation of the tenant's document: key it by an operationId or \"METHOD /path\""
			if c := ClosestKey(k, keys); c != "" {
				msg += fmt.Sprintf("; did you mean %q?", c)
			}
			inv.Add(fmt.Sprintf("settings.%s[%q]", setting, k), msg)
		}
	}
	check("names", keySet(s.Names))
	check("uris", keySet(s.URIs))
	check("timeouts_ms", keySet(s.TimeoutsMS))
	return inv.Err()
}

func keySet[V any](m map[string]V) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

// normalizeKey upper-cases the method of a "METHOD /path" key.
func normalizeKey(k string) string {
	if m, p, ok := strings.Cut(k, " "); ok && strings.HasPrefix(p, "/") {
		return strings.ToUpper(m) + " " + p
	}
	return k
}

// closestKey is the key nearest to k by edit distance, when it is near
// enough to be a likely typo (at most a third of k's length away).
func ClosestKey(k string, keys []string) string {
	best, bestD := "", len(k)/3+1
	for _, c := range keys {
		if d := editDistance(strings.ToLower(k), strings.ToLower(c), bestD); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, or limit when
// it is at least limit (rows stop early once every cell reaches it).
func editDistance(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d >= limit || -d >= limit {
		return limit
	}
	prev, cur := make([]int, len(rb)+1), make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		low := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			low = min(low, cur[j])
		}
		if low >= limit {
			return limit
		}
		prev, cur = cur, prev
	}
	return min(prev[len(rb)], limit)
}
