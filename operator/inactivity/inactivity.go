// Package inactivity decides when a Running session has been idle too long
// as the platform's operator decides it: which timeout applies, when the session
// was last active, and so when it goes idle.
package inactivity

import (
	"context"
	"time"

	"k8s.io/utils/clock"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// DefaultTimeout applies when neither the session nor its project sets one.
const DefaultTimeout = 86400 * time.Second

// Timeout is the inactivity timeout of a session: spec.inactivityTimeout, else the
// project's inactivityTimeoutSeconds, else def. Zero means never idle. A negative
// value, which the schemas reject, counts as unset rather than as "stop now".
func Timeout(s *v1alpha1.AgenticSession, projectSeconds *int, def time.Duration) time.Duration {
	if v := s.Spec.InactivityTimeout; v != nil && *v >= 0 {
		return time.Duration(*v) * time.Second
	}
	if projectSeconds != nil && *projectSeconds >= 0 {
		return time.Duration(*projectSeconds) * time.Second
	}
	return def
}

// LastActivity is status.lastActivityTime, else status.startTime, else the
// session's creation time.
func LastActivity(s *v1alpha1.AgenticSession) time.Time {
	switch {
	case s.Status.LastActivityTime != nil:
		return s.Status.LastActivityTime.Time
	case s.Status.StartTime != nil:
		return s.Status.StartTime.Time
	default:
		return s.CreationTimestamp.Time
	}
}

// Due reports whether a session last active at last is idle at now under timeout,
// and otherwise how long until it will be (0 when timeout disables the check).
// The deadline itself counts as idle so that a requeue at exactly the deadline
// stops the session rather than requeueing for zero.
func Due(now, last time.Time, timeout time.Duration) (idle bool, requeueAfter time.Duration) {
	if timeout <= 0 {
		return false, 0
	}
	left := last.Add(timeout).Sub(now)
	if left <= 0 {
		return true, 0
	}
	return false, left
}

// Checker applies Due to sessions, looking up project timeouts in Projects.
type Checker struct {
	Clock    clock.PassiveClock
	Default  time.Duration
	Projects ProjectTimeouts
}

// Result is the outcome of a check.
type Result struct {
	Idle bool
	// RequeueAfter is when to look again, the moment the session would go idle;
	// 0 when it is idle already or the timeout is disabled.
	RequeueAfter time.Duration
	Timeout      time.Duration
	LastActivity time.Time
}

// Check decides for a Running session.
func (c *Checker) Check(ctx context.Context, s *v1alpha1.AgenticSession) (Result, error) {
	var project *int
	if s.Spec.InactivityTimeout == nil { // the project only matters when the session is silent
		var err error
		if project, err = c.Projects.ProjectTimeout(ctx, s.Namespace); err != nil {
			return Result{}, err
		}
	}
	r := Result{Timeout: Timeout(s, project, c.Default), LastActivity: LastActivity(s)}
	r.Idle, r.RequeueAfter = Due(c.Clock.Now(), r.LastActivity, r.Timeout)
	return r, nil
}
