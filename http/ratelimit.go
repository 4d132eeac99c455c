package http

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/vanehq/vane"
)

// RateLimit limits how fast each caller may send requests: a token bucket
// per caller, refilled at Rate requests a second up to Burst. The caller
// is the credential once access control is on, and the client address
// for anonymous requests. A zero Rate turns limiting off. Health probes
// are never limited; a watch stream counts once, when it opens.
type RateLimit struct {
	Rate  float64
	Burst int
}

// limiter holds the buckets of a RateLimit.
type limiter struct {
	rate, burst float64
	mu          sync.Mutex
	buckets     map[string]*bucket
	swept       time.Time
}

type bucket struct {
	tokens float64
	at     time.Time // when tokens was computed
}

// idleBucket is how long an untouched bucket is kept; after it, it would
// be full anyway.
const idleBucket = time.Minute

func newLimiter(rl RateLimit) *limiter {
	if rl.Rate <= 0 {
		return nil
	}
	burst := float64(rl.Burst)
	if burst < 1 {
		burst = math.Max(1, math.Ceil(rl.Rate))
	}
	return &limiter{rate: rl.Rate, burst: burst, buckets: map[string]*bucket{}}
}

// allow takes a token from key's bucket; when there is none it reports how
// long until there will be one.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > idleBucket {
		for k, b := range l.buckets {
			if now.Sub(b.at) > idleBucket {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// rateKey is the bucket of a request: its credential, or the client
// address of an anonymous one.
func rateKey(r *http.Request) string {
	if p := vane.PrincipalFromContext(r.Context()); p != vane.AnonymousPrincipal {
		return "principal " + p
	}
	return "address " + clientAddr(r)
}

// throttle answers a request over the limit, and returns the status sent:
// ThrottlingException for the SSM protocol, so AWS SDKs back off, and 429
// with Retry-After otherwise.
func (s *Server) throttle(w http.ResponseWriter, r *http.Request, wait time.Duration) int {
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(max(1, secs)))
	err := vane.Errorf(vane.ETHROTTLED, "rate exceeded: at most %g requests a second (bursts of %g); retry after %d s", s.limit.rate, s.limit.burst, max(1, secs))
	if r.Method == http.MethodPost && r.URL.Path == "/" {
		w.Header().Set("X-Amzn-ErrorType", "ThrottlingException")
		writeSSM(w, http.StatusBadRequest, &ssmErrorBody{Type: "ThrottlingException", Message: "Rate exceeded", Message2: "Rate exceeded"})
		return http.StatusBadRequest
	}
	if isAppConfigPath(r.URL.Path) {
		return s.writeAppConfigError(w, r, &appConfigError{Type: "ThrottlingException", Status: http.StatusTooManyRequests, msg: "Rate exceeded"})
	}
	s.writeError(w, r, err)
	return http.StatusTooManyRequests
}
