package bench

import (
	"time"

	"github.com/ambient-code/agentic-operator/hack/scale/churn"
	"github.com/ambient-code/agentic-operator/hack/scale/heap"
	"github.com/ambient-code/agentic-operator/hack/scale/profile"
	"github.com/ambient-code/agentic-operator/hack/scale/viaapi"
	"github.com/ambient-code/agentic-operator/hack/scale/webhookload"
)

// The labels of the runs through the API server, in Results.ViaAPI and Results.Churn.
const (
	WithoutWebhook = "without webhook"
	WithWebhook    = "with webhook"
)

// Results is everything one run measured; the report is rendered from it.
type Results struct {
	Machine Machine
	Started time.Time
	Took    time.Duration
	Config  ConfigEcho
	Points  []Point
	Webhook []webhookload.Run
	Reviews int
	ViaAPI  map[string]viaapi.Creation // by WithoutWebhook, WithWebhook
	Churn   map[string][]churn.Checkpoint
	Archive Archive // adoption per point, restart latency (archive.go)
	// Starts are the shipped operator's requests per new session (starts.go).
	Starts *Starts `json:",omitempty"`
	// Active is what active sessions cost the shipped operator (active.go).
	Active   *Active `json:",omitempty"`
	Phases   map[string]time.Duration
	Describe map[string]string // configuration name -> description
}

// ConfigEcho is the part of Config a reader of the report needs.
type ConfigEcho struct {
	Base             profile.Counts
	Samples          int
	SampleInterval   time.Duration
	Quiet            time.Duration
	ListWindow       time.Duration
	RateDuration     time.Duration
	Warmup           time.Duration
	RunnerPods       int
	ChurnWrites      int
	ChurnCheckpoints []int
	Concurrency      int
}

// Point is one profile scale and what each configuration cost there.
type Point struct {
	Label string
	// SessionScale and SystemPodScale are relative to the 1x profile.
	SessionScale, SystemPodScale float64
	Counts                       profile.Counts
	Load                         profile.Loaded
	Sessions                     profile.Sizes
	// Heap is keyed by configuration name, plus ShippedFirstStart at the reference point.
	Heap map[string]*heap.Result
}

// ShippedFirstStart keys the shipped operator's first start on the cluster, at the
// reference point: it provisions RoleBindings and Services that later starts find.
const ShippedFirstStart = "shipped-first-start"
