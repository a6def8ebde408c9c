package bridge

import (
	"math"
	"unicode"
	"unicode/utf8"
)

// EstimateTokens estimates how many tokens of the o200k_base encoding (the
// BPE of GPT-4o and later OpenAI models) the JSON text b is. A real BPE
// is too slow for the conformance report: tokenizing GitHub's 6.8 MB
// listing takes tiktoken-go ~3 s, about twice the conversion itself. So
// this counts the pieces o200k's pre-tokenizer cuts text into (words split
// at case changes, digit groups of three, punctuation runs, whitespace
// runs), weighs them with coefficients fitted against tiktoken-go on every
// tool of the OpenAPI corpus, and runs in a few milliseconds per megabyte.
// TestEstimateTokensAgainstBPE measures the error (docs/conformance.md).
// Other models' tokenizers (Claude's among them) count the same text
// differently, typically within some tens of percent.
func EstimateTokens(b []byte) int {
	f := tokenFeatures(b)
	est := 0.0
	for i, c := range tokenCoefficients {
		est += c * float64(f[i])
	}
	return int(math.Round(est))
}

// tokenFeatures counts, in b: words, letters of words beyond the sixth,
// digit groups, punctuation runs, characters of punctuation runs beyond
// the second, and whitespace runs longer than one.
func tokenFeatures(b []byte) [6]int {
	var words, longLetters, digits, puncts, longPunct, spaces int
	for i := 0; i < len(b); {
		c := b[i]
		switch cls := byteClass[c]; {
		case cls == clsUpper || cls == clsLower || cls == clsHigh:
			// An upper-case run, then a lower-case run: "camelCase" is
			// "camel" + "Case", "HTTPError" is "HTTPE" + "rror".
			n := 0
			j := i
			for j < len(b) {
				k := byteClass[b[j]]
				if k == clsUpper {
					j++
					n++
					continue
				}
				if k != clsHigh {
					break
				}
				up, size := upperAt(b, j)
				if !up {
					break
				}
				j += size
				n++
			}
			for j < len(b) {
				k := byteClass[b[j]]
				if k == clsLower {
					j++
					n++
					continue
				}
				if k != clsHigh {
					break
				}
				lo, size := lowerAt(b, j)
				if !lo {
					break
				}
				j += size
				n++
			}
			if j == i { // a non-letter above ASCII: punctuation
				_, size := utf8.DecodeRune(b[i:])
				j = i + size
				puncts++
				i = j
				continue
			}
			words++
			if n > 6 {
				longLetters += n - 6
			}
			i = j
		case cls == clsDigit:
			j := i
			for j < len(b) && byteClass[b[j]] == clsDigit {
				j++
			}
			digits += (j - i + 2) / 3
			i = j
		case cls == clsSpace:
			j := i
			for j < len(b) && byteClass[b[j]] == clsSpace {
				j++
			}
			if j-i > 1 {
				spaces++
			}
			i = j
		default:
			j := i
			for j < len(b) {
				k := byteClass[b[j]]
				if k != clsOther {
					if k == clsHigh {
						r, _ := utf8.DecodeRune(b[j:])
						if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
							j += utf8.RuneLen(r)
							continue
						}
					}
					break
				}
				j++
			}
			puncts++
			if j-i > 2 {
				longPunct += j - i - 2
			}
			i = j
		}
	}
	return [6]int{words, longLetters, digits, puncts, longPunct, spaces}
}

// tokenCoefficients weigh tokenFeatures; fitted (least squares on the
// relative error, per tool) against tiktoken-go's o200k_base over every
// tool of the corpus. TestEstimateTokensAgainstBPE logs a refit.
var tokenCoefficients = [6]float64{0.9676, 0.0714, 1.0271, 0.6948, 0.3429, 2.968}

const (
	clsOther = iota
	clsUpper
	clsLower
	clsDigit
	clsSpace
	clsHigh // a byte of a multi-byte UTF-8 sequence
)

var byteClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case c >= 'A' && c <= 'Z':
			t[c] = clsUpper
		case c >= 'a' && c <= 'z':
			t[c] = clsLower
		case c >= '0' && c <= '9':
			t[c] = clsDigit
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			t[c] = clsSpace
		case c >= 0x80:
			t[c] = clsHigh
		}
	}
	return t
}()

func upperAt(b []byte, i int) (bool, int) {
	switch byteClass[b[i]] {
	case clsHigh:
		r, size := utf8.DecodeRune(b[i:])
		return unicode.IsUpper(r) || unicode.IsTitle(r), size
	}
	return false, 1
}

func lowerAt(b []byte, i int) (bool, int) {
	switch byteClass[b[i]] {
	case clsHigh:
		r, size := utf8.DecodeRune(b[i:])
		return unicode.IsLetter(r) && !unicode.IsUpper(r) && !unicode.IsTitle(r), size
	}
	return false, 1
}
