package profile

import (
	"math"
	"math/rand/v2"
	"strings"
)

// words make prompts and messages that compress and intern like English text rather
// than like random bytes, which matters for heap figures.
var words = strings.Fields(`the a to of and in for with on from by that this it is be as
	refactor implement review fix add remove update migrate test tests unit integration
	operator controller reconcile webhook cache informer pod pods session sessions runner
	namespace label selector condition status spec field fields api server client request
	response error errors retry timeout memory heap allocation leak profile benchmark
	function method package module file files directory repository branch commit pull
	merge rebase conflict pipeline build deploy release version dependency upgrade
	config configuration flag option default value values schema validation type types
	struct interface handler middleware route endpoint query database table index
	migration transaction lock queue worker job schedule metrics logging tracing alert
	dashboard user users group role permission token secret certificate rotation please
	make sure keep existing behaviour backwards compatible document explain why small
	changes only focus performance regression flaky failing passing coverage lint format`)

// rng is the deterministic generator of object i of a kind.
func rng(kind uint64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(0x5ca1ab1e^kind, uint64(i)))
}

// sentence returns roughly n bytes of words, capitalised, ending with a period.
func sentence(r *rand.Rand, n int) string {
	var b strings.Builder
	b.Grow(n + 16)
	for b.Len() < n {
		w := words[r.IntN(len(words))]
		if b.Len() == 0 {
			w = strings.ToUpper(w[:1]) + w[1:]
		} else {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	b.WriteByte('.')
	return b.String()
}

// paragraphs returns about n bytes of sentences of 40-160 bytes, with a line break now
// and then, like a prompt typed into a text box.
func paragraphs(r *rand.Rand, n int) string {
	var b strings.Builder
	b.Grow(n + 200)
	for b.Len() < n {
		if b.Len() > 0 {
			if r.IntN(4) == 0 {
				b.WriteString("\n\n")
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteString(sentence(r, 40+r.IntN(120)))
	}
	return b.String()
}

// logUniform draws from [lo, hi] with a log-uniform distribution: many short prompts,
// some long ones.
func logUniform(r *rand.Rand, lo, hi int) int {
	l, h := math.Log(float64(lo)), math.Log(float64(hi))
	return int(math.Exp(l + r.Float64()*(h-l)))
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }
