// Package trigger is the `operator session-trigger` subcommand: the program the
// backend's scheduled-session CronJobs run. From the CronJob's environment it
// either creates a new AgenticSession from the schedule's template or, in reuse
// mode, restarts or prompts the schedule's latest session, as the platform's
// operator does (runner contract §6.5).
package trigger

import (
	"fmt"
	"strings"
	"time"

	"sigs.k8s.io/json"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// The CronJob's environment. The backend sets the first four; BACKEND_NAMESPACE
// is only ever set by hand.
const (
	EnvSessionTemplate      = "SESSION_TEMPLATE"
	EnvProjectNamespace     = "PROJECT_NAMESPACE"
	EnvScheduledSessionName = "SCHEDULED_SESSION_NAME"
	EnvReuseLastSession     = "REUSE_LAST_SESSION"
	EnvBackendNamespace     = "BACKEND_NAMESPACE"
)

const (
	// DefaultBackendNamespace is where the backend's Service lives unless
	// BACKEND_NAMESPACE says otherwise.
	DefaultBackendNamespace = "ambient-code"
	// DefaultTokenFile is the pod's ServiceAccount token, the credential the
	// backend's /agui/run accepts from the trigger.
	DefaultTokenFile = "/var/run/secrets/kubernetes.io/serviceaccount/token"
	// RequestTimeout bounds each API server call and the backend POST, as the
	// platform bounds them.
	RequestTimeout = 30 * time.Second
)

// displayTimeLayout renders the run time in a new session's display name,
// e.g. "Jan 2, 2026 - 15:04:05" (always UTC).
const displayTimeLayout = "Jan 2, 2006 - 15:04:05"

// maxPrefixLen caps the sanitised name prefix so that prefix, "-" and ten
// digits of Unix seconds stay within the 55 characters a session name may have
// (its Service is session-<name>, a DNS label).
const maxPrefixLen = 40

// Config is what one trigger run is asked to do.
type Config struct {
	// Namespace is the project namespace (PROJECT_NAMESPACE).
	Namespace string
	// ScheduledSessionName is the CronJob's name (SCHEDULED_SESSION_NAME).
	ScheduledSessionName string
	// Template is SESSION_TEMPLATE decoded into a session spec.
	Template v1alpha1.AgenticSessionSpec
	// Reuse is REUSE_LAST_SESSION: restart or prompt the latest session
	// instead of always creating one.
	Reuse bool
	// BackendNamespace is BACKEND_NAMESPACE, defaulted.
	BackendNamespace string
}

// ConfigFromEnv reads the trigger's environment. A missing required variable
// or a template that is not a session spec is an error.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	cfg := Config{
		Namespace:            getenv(EnvProjectNamespace),
		ScheduledSessionName: getenv(EnvScheduledSessionName),
		Reuse:                strings.EqualFold(strings.TrimSpace(getenv(EnvReuseLastSession)), "true"),
		BackendNamespace:     getenv(EnvBackendNamespace),
	}
	raw := getenv(EnvSessionTemplate)
	var missing []string
	for _, v := range []struct{ name, value string }{
		{EnvSessionTemplate, raw},
		{EnvProjectNamespace, cfg.Namespace},
		{EnvScheduledSessionName, cfg.ScheduledSessionName},
	} {
		if v.value == "" {
			missing = append(missing, v.name)
		}
	}
	if len(missing) > 0 {
		return Config{}, fmt.Errorf("required environment variables not set: %s", strings.Join(missing, ", "))
	}
	if cfg.BackendNamespace == "" {
		cfg.BackendNamespace = DefaultBackendNamespace
	}
	spec, err := DecodeTemplate([]byte(raw))
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", EnvSessionTemplate, err)
	}
	cfg.Template = spec
	return cfg, nil
}

// DecodeTemplate decodes the backend's create-session request into a session
// spec. Names match case-sensitively and fields the spec does not have
// (runnerType, parent_session_id, labels, annotations, sdkOptions) are
// dropped, as the API server's pruning drops them from the platform's
// untyped create.
func DecodeTemplate(data []byte) (v1alpha1.AgenticSessionSpec, error) {
	var spec v1alpha1.AgenticSessionSpec
	if err := json.UnmarshalCaseSensitivePreserveInts(data, &spec); err != nil {
		return v1alpha1.AgenticSessionSpec{}, fmt.Errorf("decoding the session template: %w", err)
	}
	return spec, nil
}

// BackendURL is the in-cluster base URL of the backend in namespace ns.
func BackendURL(ns string) string {
	return "http://backend-service." + ns + ".svc.cluster.local:8080"
}

// SanitizeName turns s into a session name prefix: lowercase ASCII letters and
// digits, every other run of bytes one "-", no leading or trailing "-", at most
// 40 characters, and "run" when nothing is left.
func SanitizeName(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b = append(b, c)
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		default:
			// Byte-wise, like the platform: a multi-byte rune is one run.
			if len(b) > 0 && b[len(b)-1] != '-' {
				b = append(b, '-')
			}
		}
	}
	if len(b) > maxPrefixLen {
		b = b[:maxPrefixLen]
	}
	// After the cut, which can end on a "-".
	for len(b) > 0 && b[len(b)-1] == '-' {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return "run"
	}
	return string(b)
}

// NewSessionNames returns the name and spec.displayName of the session a run at
// now creates: the prefix comes from the template's display name, or the
// schedule's name without one; the display name, when there is one, gets the
// run time appended.
func NewSessionNames(scheduledSessionName, displayName string, now time.Time) (name, display string) {
	prefix := SanitizeName(scheduledSessionName)
	if displayName != "" {
		prefix = SanitizeName(displayName)
		display = fmt.Sprintf("%s (%s)", displayName, now.UTC().Format(displayTimeLayout))
	}
	return fmt.Sprintf("%s-%d", prefix, now.Unix()), display
}
