package v1alpha1

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// MaxSessionNameLength is the longest session name a runner can be made for: the
// session's Service, session-<name>, must be a DNS-1035 label of at most 63
// characters. The agentic-session label value (at most 63) and the runner pod's
// name, <name>-runner (a DNS subdomain of at most 253), allow more.
const MaxSessionNameLength = validation.DNS1035LabelMaxLength - len("session-")

// Reasons of RunnerNameError, usable as condition reasons.
const (
	// ReasonSessionNameTooLong: the session name has more than MaxSessionNameLength characters.
	ReasonSessionNameTooLong = "SessionNameTooLong"
	// ReasonSessionNameInvalid: the session name cannot be part of a Service name or a label value (a dot, for one).
	ReasonSessionNameInvalid = "SessionNameInvalid"
	// ReasonEnvVarNameInvalid: a spec.environmentVariables name the API server refuses in a pod.
	ReasonEnvVarNameInvalid = "EnvVarNameInvalid"
)

// RunnerNameError is a name of a session that no runner pod or Service can be
// made with, so that every create would be refused.
// +kubebuilder:object:generate=false
type RunnerNameError struct {
	// Reason is one of the Reason* constants above.
	Reason string
	// Field is the offending field: metadata.name or spec.environmentVariables[<name>].
	Field string
	// Detail says why, and what the limit is.
	Detail string
}

func (e *RunnerNameError) Error() string { return e.Field + ": " + e.Detail }

// ValidateForRunner returns the names of s that its runner pod or Service cannot
// carry, first the session name and then the environment variable names in
// order; none when the runner can be made.
//
// The CRD does not enforce these: the platform's CRDs accept any session name
// Kubernetes allows (a DNS subdomain of up to 253 characters, dots included) and
// any environmentVariables key, and a schema rule here (an XValidation on
// metadata.name, a pattern on the keys) would refuse objects the platform
// stores, which the CRD compatibility test (test/crdcompat) forbids. So the
// operator fails such a session instead of retrying creates that cannot succeed.
func ValidateForRunner(s *AgenticSession) []*RunnerNameError {
	var errs []*RunnerNameError
	if e := validateSessionName(s.Name); e != nil {
		errs = append(errs, e)
	}
	names := make([]string, 0, len(s.Spec.EnvironmentVariables))
	for name := range s.Spec.EnvironmentVariables {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		// The API server has applied the relaxed rule (printable ASCII except
		// '=', not empty) since 1.34, where it is GA and locked on; the older
		// C-identifier rule (validation.IsEnvVarName) would refuse names such a
		// cluster runs, like "1ST" or "a:b".
		if msgs := validation.IsRelaxedEnvVarName(name); len(msgs) > 0 {
			errs = append(errs, &RunnerNameError{
				Reason: ReasonEnvVarNameInvalid,
				Field:  fmt.Sprintf("spec.environmentVariables[%q]", name),
				Detail: "not a valid environment variable name: " + strings.Join(msgs, "; "),
			})
		}
	}
	return errs
}

func validateSessionName(name string) *RunnerNameError {
	if len(name) > MaxSessionNameLength {
		return &RunnerNameError{
			Reason: ReasonSessionNameTooLong,
			Field:  "metadata.name",
			Detail: fmt.Sprintf("the session name has %d characters, at most %d can work: the runner's Service %s must be a DNS-1035 label of at most %d characters",
				len(name), MaxSessionNameLength, ServiceName("<name>"), validation.DNS1035LabelMaxLength),
		}
	}
	var msgs []string
	if m := validation.IsDNS1035Label(ServiceName(name)); len(m) > 0 {
		msgs = append(msgs, fmt.Sprintf("the runner's Service name %q is not a DNS-1035 label: %s", ServiceName(name), strings.Join(m, "; ")))
	}
	if m := validation.IsValidLabelValue(name); len(m) > 0 {
		msgs = append(msgs, fmt.Sprintf("the %s label value is invalid: %s", LabelSession, strings.Join(m, "; ")))
	}
	if len(msgs) == 0 {
		return nil
	}
	return &RunnerNameError{Reason: ReasonSessionNameInvalid, Field: "metadata.name", Detail: strings.Join(msgs, "; ")}
}
