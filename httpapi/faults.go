package httpapi

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/graphd/graphd/odata"
)

// Faults on demand, for testing a client's retry logic (as WireMock's and Dev Proxy's): a fault names a method
// and a path pattern, and makes matching requests fail with a status (Graph's envelope, Retry-After when set),
// or wait delayMs and then be served, or both. A failed request is not applied. Faults fire after routing and
// before authentication, as a gateway would, unless they name a tenant: then after authentication, for that
// tenant only, so tests sharing one server do not disturb each other. $batch requests match by their /beta path
// and answer inside the batch. times counts down and removes the fault at 0; probability (default 1) makes it
// fire at random.

// Fault is a fault rule as the admin API takes and lists it.
type Fault struct {
	ID                string   `json:"id"`
	Method            string   `json:"method"`
	Path              string   `json:"path"`
	Status            int      `json:"status,omitempty"`
	RetryAfterSeconds *int     `json:"retryAfterSeconds,omitempty"`
	Code              string   `json:"code,omitempty"`
	Message           string   `json:"message,omitempty"`
	DelayMs           int      `json:"delayMs,omitempty"`
	Times             *int     `json:"times,omitempty"`
	Probability       *float64 `json:"probability,omitempty"`
	Tenant            string   `json:"tenant,omitempty"`

	segments []string
}

// maxFaultDelay bounds delayMs, so a fault cannot hold a request past its deadline by much.
const maxFaultDelay = 60_000

// statusCodes are Graph's codes by status (contract §0.6), for faults that give none.
var statusCodes = map[int]string{
	400: odata.CodeBadRequest, 401: "InvalidAuthenticationToken", 403: "Forbidden", 404: odata.CodeResourceNotFound,
	405: "MethodNotAllowed", 406: "NotAcceptable", 409: odata.CodeConflict, 412: odata.CodePreconditionFailed,
	413: "RequestEntityTooLarge", 414: "RequestUriTooLong", 415: "UnsupportedMediaType", 429: "TooManyRequests",
	431: "RequestHeaderFieldsTooLarge", 500: odata.CodeInternalServerError, 502: "BadGateway",
	503: odata.CodeServiceNotAvailable, 504: "GatewayTimeout",
}

// validate checks a fault as the admin API receives it and prepares it for matching.
func (f *Fault) validate() error {
	bad := func(msg string) error { return &httpError{http.StatusBadRequest, odata.CodeBadRequest, msg} }
	f.Method = strings.ToUpper(strings.TrimSpace(f.Method))
	if f.Method == "" {
		return bad("A fault needs a method: an HTTP method such as PATCH, or * for any.")
	}
	if !strings.HasPrefix(f.Path, "/") {
		return bad("A fault needs a path pattern starting with /, such as /beta/deviceManagement/certificateConnectorDetails/*.")
	}
	// Faults fire on /beta only, and match the path without its query: a pattern that cannot match such a path
	// would wait in vain.
	if first, _, _ := strings.Cut(f.Path[1:], "/"); first != "beta" && first != "*" && first != "**" || strings.ContainsAny(f.Path, "?#") {
		return bad("A fault's path pattern must match paths under /beta, without a query, such as /beta/deviceManagement/certificateConnectorDetails/*.")
	}
	if f.Status == 0 && f.DelayMs == 0 {
		return bad("A fault needs a status (400-599) or a delayMs, or both.")
	}
	if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
		return bad("A fault's status must be between 400 and 599.")
	}
	if f.DelayMs < 0 || f.DelayMs > maxFaultDelay {
		return bad("A fault's delayMs must be between 0 and " + strconv.Itoa(maxFaultDelay) + ".")
	}
	if f.RetryAfterSeconds != nil && *f.RetryAfterSeconds < 0 {
		return bad("A fault's retryAfterSeconds must not be negative.")
	}
	if f.Times != nil && *f.Times < 1 {
		return bad("A fault's times must be at least 1.")
	}
	if f.Probability != nil && (*f.Probability < 0 || *f.Probability > 1) {
		return bad("A fault's probability must be between 0 and 1.")
	}
	if f.Tenant != "" {
		g, ok := odata.ParseGUID(f.Tenant)
		if !ok {
			return bad("A fault's tenant must be a GUID.")
		}
		f.Tenant = g
	}
	if f.Status != 0 && f.Code == "" {
		f.Code = statusCodes[f.Status]
		if f.Code == "" {
			f.Code = odata.CodeBadRequest
			if f.Status >= 500 {
				f.Code = odata.CodeInternalServerError
			}
		}
	}
	if f.Status != 0 && f.Message == "" {
		f.Message = "A fault injected by graphd's test lab answered this request (" + http.StatusText(f.Status) + ")."
	}
	f.segments = strings.Split(strings.TrimPrefix(f.Path, "/"), "/")
	return nil
}

// matchPath matches path segments against a pattern's: * is one segment, ** any number of them.
func matchPath(pattern, path []string) bool {
	for len(pattern) > 0 {
		if pattern[0] == "**" {
			for i := 0; i <= len(path); i++ {
				if matchPath(pattern[1:], path[i:]) {
					return true
				}
			}
			return false
		}
		if len(path) == 0 || pattern[0] != "*" && pattern[0] != path[0] {
			return false
		}
		pattern, path = pattern[1:], path[1:]
	}
	return len(path) == 0
}

// keySegments splits a path into segments as a fault pattern sees them: an entity's key in OData's key form is a
// segment of its own, so that …/certificateConnectorDetails/* matches …/certificateConnectorDetails('id') as it
// matches …/certificateConnectorDetails/id.
func keySegments(path string) []string {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i := 0; i < len(segs); i++ {
		open := strings.IndexByte(segs[i], '(')
		if open <= 0 || !strings.HasSuffix(segs[i], ")") {
			continue
		}
		key := segs[i][open+1 : len(segs[i])-1]
		if len(key) >= 2 && key[0] == '\'' && key[len(key)-1] == '\'' {
			key = strings.ReplaceAll(key[1:len(key)-1], "''", "'")
		}
		segs = append(segs[:i+1], append([]string{key}, segs[i+1:]...)...)
		segs[i] = segs[i][:open]
		i++
	}
	return segs
}

// faults is the set of fault rules of a server with the admin API on.
type faults struct {
	mu    sync.Mutex
	rules []*Fault
	count int // rules ever added, for ids
}

func (fs *faults) add(f *Fault) Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.count++
	f.ID = "fault-" + strconv.Itoa(fs.count)
	fs.rules = append(fs.rules, f)
	return *f
}

func (fs *faults) list() []Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := make([]Fault, len(fs.rules))
	for i, f := range fs.rules {
		out[i] = *f
	}
	return out
}

func (fs *faults) remove(id string) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, f := range fs.rules {
		if f.ID == id {
			fs.rules = append(fs.rules[:i:i], fs.rules[i+1:]...)
			return true
		}
	}
	return false
}

func (fs *faults) clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.rules = nil
}

// take finds the first fault that fires for a request (tenant "" before authentication, the caller's after) and
// counts it down. The returned copy is the fault as it fired.
func (fs *faults) take(method, path, tenant string) (Fault, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if len(fs.rules) == 0 {
		return Fault{}, false
	}
	segs := keySegments(path)
	for i, f := range fs.rules {
		if f.Tenant != tenant || f.Method != "*" && f.Method != method || !matchPath(f.segments, segs) {
			continue
		}
		if f.Probability != nil && rand.Float64() >= *f.Probability {
			continue
		}
		fired := *f
		if f.Times != nil {
			n := *f.Times - 1
			if n == 0 {
				fs.rules = append(fs.rules[:i:i], fs.rules[i+1:]...)
			} else {
				f.Times = &n
			}
		}
		return fired, true
	}
	return Fault{}, false
}

// injectFault applies the fault that fires for r, if any: it waits the fault's delay and, with a status, answers
// the request itself (true: the request is done, not applied). tenant is "" before authentication. A request of
// a $batch atomicity group that runs again meets the same outcome, without counting the fault down again.
func (s *server) injectFault(w http.ResponseWriter, r *http.Request, tenant string) bool {
	if s.faults == nil {
		return false
	}
	phase := 0
	if tenant != "" {
		phase = 1
	}
	var f Fault
	var ok, again bool
	if st := stepFrom(r.Context()); st != nil && st.state.faultTaken[phase] {
		if st.state.fault[phase] == nil {
			return false
		}
		f, ok, again = *st.state.fault[phase], true, true
	} else {
		f, ok = s.faults.take(r.Method, r.URL.Path, tenant)
		if st != nil {
			st.state.faultTaken[phase] = true
			if ok {
				fired := f // a copy, so that f itself stays on the stack of every request
				st.state.fault[phase] = &fired
			}
		}
	}
	if !ok {
		return false
	}
	requestInfoFrom(r.Context()).fault = f.ID
	if f.DelayMs > 0 && !again {
		t := time.NewTimer(time.Duration(f.DelayMs) * time.Millisecond)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	if f.Status == 0 {
		return false
	}
	if s.journal != nil && stepFrom(r.Context()) == nil && r.Body != nil && r.Body != http.NoBody {
		// The journal keeps the body of the request the fault answered, as it does for requests served: a test
		// compares it with what the client's retry sent. (A $batch request's body is the batch's.)
		_, _ = s.readJSONBody(w, r)
	}
	if f.RetryAfterSeconds != nil {
		w.Header().Set("Retry-After", strconv.Itoa(*f.RetryAfterSeconds))
	}
	s.error(w, r, &httpError{f.Status, f.Code, f.Message})
	return true
}
