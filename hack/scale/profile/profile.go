// Package profile builds the vteam-uat cluster shape (shared/design/profile.md) as
// realistic objects and loads it into a control plane with bounded concurrency. Every
// object is a pure function of its index, so loading a larger profile over a smaller
// one adds only what is missing.
package profile

import (
	"fmt"
	"math"
)

// Counts is how many of each object a profile holds.
type Counts struct {
	// Namespaces is the total, managed ones included.
	Namespaces int
	// Managed namespaces carry ambient-code.io/managed=true and one ProjectSettings.
	Managed int
	// Sessions are AgenticSessions spread over the managed namespaces.
	Sessions int
	// Active sessions (Pending/Creating/Running) each control one runner pod.
	Active int
	// SystemPods are non-runner pods in the unmanaged namespaces.
	SystemPods int
}

// VteamUAT is the shape of the cluster where the platform's operator was OOMKilled:
// 763 namespaces, 674 managed, 4,319 sessions (80 active), 477 pods (80 runners).
func VteamUAT() Counts {
	return Counts{Namespaces: 763, Managed: 674, Sessions: 4319, Active: 80, SystemPods: 397}
}

// Scaled multiplies every count by f, keeping at least one of each kind that was
// non-zero so that a tiny profile still exercises every code path.
func (c Counts) Scaled(f float64) Counts {
	return Counts{
		Namespaces: scale(c.Namespaces, f),
		Managed:    scale(c.Managed, f),
		Sessions:   scale(c.Sessions, f),
		Active:     scale(c.Active, f),
		SystemPods: scale(c.SystemPods, f),
	}
}

// Pods is the total number of pods: one runner per active session plus system pods.
func (c Counts) Pods() int { return c.Active + c.SystemPods }

// Validate rejects shapes the generator cannot build.
func (c Counts) Validate() error {
	switch {
	case c.Managed < 1 || c.Namespaces < 1:
		return fmt.Errorf("profile needs at least one managed namespace, got %d of %d namespaces", c.Managed, c.Namespaces)
	case c.Managed > c.Namespaces:
		return fmt.Errorf("managed namespaces (%d) exceed namespaces (%d)", c.Managed, c.Namespaces)
	case c.SystemPods > 0 && c.Managed == c.Namespaces:
		return fmt.Errorf("%d system pods need at least one unmanaged namespace", c.SystemPods)
	case c.Active > c.Sessions:
		return fmt.Errorf("active sessions (%d) exceed sessions (%d)", c.Active, c.Sessions)
	case c.Sessions < 0 || c.Active < 0 || c.SystemPods < 0:
		return fmt.Errorf("counts must not be negative: %+v", c)
	}
	return nil
}

func (c Counts) String() string {
	return fmt.Sprintf("%d namespaces (%d managed), %d ProjectSettings, %d sessions (%d active), %d pods (%d runner, %d system)",
		c.Namespaces, c.Managed, c.Managed, c.Sessions, c.Active, c.Pods(), c.Active, c.SystemPods)
}

func scale(n int, f float64) int {
	if n == 0 {
		return 0
	}
	return max(1, int(math.Round(float64(n)*f)))
}
