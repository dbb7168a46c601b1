package profile

import (
	"fmt"
	"math"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// Seeds of the per-kind random streams.
const (
	kindNamespace uint64 = iota + 1
	kindProject
	kindSession
	kindSystemPod
	kindRunnerPod
)

var (
	projectWords = []string{"platform", "payments", "search", "identity", "docs", "infra",
		"mobile", "billing", "ml", "data", "frontend", "api", "sre", "security", "growth"}
	systemPrefixes = []string{"openshift-monitoring", "openshift-ingress", "openshift-dns",
		"openshift-logging", "kube-system", "cert-manager", "openshift-operators",
		"openshift-console", "openshift-image-registry", "gitops", "vault", "keda"}
	groups = []string{"vteam-admins", "vteam-devs", "sre-oncall", "platform-team",
		"ml-research", "docs-writers", "security-review"}
)

// ManagedNamespace is the name of managed namespace j.
func ManagedNamespace(j int) string {
	return fmt.Sprintf("%s-%s-%03d", "vteam", projectWords[j%len(projectWords)], j)
}

// SystemNamespace is the name of unmanaged namespace k.
func SystemNamespace(k int) string {
	if k < len(systemPrefixes) {
		return systemPrefixes[k]
	}
	return fmt.Sprintf("%s-%d", systemPrefixes[k%len(systemPrefixes)], k/len(systemPrefixes))
}

// Namespace builds namespace j: the first c.Managed are managed, the rest system-like.
func Namespace(c Counts, j int) *corev1.Namespace {
	r := rng(kindNamespace, j)
	ns := &corev1.Namespace{}
	if j < c.Managed {
		ns.Name = ManagedNamespace(j)
		ns.Labels = map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue}
		ns.Annotations = map[string]string{
			"openshift.io/display-name": fmt.Sprintf("%s project %d", projectWords[j%len(projectWords)], j),
			"openshift.io/requester":    fmt.Sprintf("user%d@example.com", r.IntN(500)),
		}
	} else {
		ns.Name = SystemNamespace(j - c.Managed)
		ns.Labels = map[string]string{"openshift.io/cluster-monitoring": "true"}
	}
	return ns
}

// SessionNamespace spreads sessions over the managed namespaces with a skew: a few
// busy projects hold many sessions, most hold a handful, as on a real cluster.
func SessionNamespace(c Counts, i int) string {
	u := rng(kindSession^0xff, i).Float64()
	return ManagedNamespace(min(c.Managed-1, int(float64(c.Managed)*math.Pow(u, 1.6))))
}

// ProjectSettings builds the singleton of managed namespace j.
func ProjectSettings(j int) *v1alpha1.ProjectSettings {
	r := rng(kindProject, j)
	ps := &v1alpha1.ProjectSettings{
		ObjectMeta: metav1.ObjectMeta{Name: v1alpha1.ProjectSettingsName, Namespace: ManagedNamespace(j)},
		Spec: v1alpha1.ProjectSettingsSpec{
			GroupAccess:       []v1alpha1.GroupAccess{},
			RunnerSecretsName: "ambient-runner-secrets",
		},
	}
	for k := range 1 + r.IntN(3) {
		ps.Spec.GroupAccess = append(ps.Spec.GroupAccess, v1alpha1.GroupAccess{
			GroupName: groups[(j+k)%len(groups)],
			Role:      []v1alpha1.Role{"admin", "edit", "view"}[k%3],
		})
	}
	for k := range r.IntN(3) {
		ps.Spec.Repositories = append(ps.Spec.Repositories, v1alpha1.ProjectRepository{
			URL:      fmt.Sprintf("https://github.com/example-org/%s-%d.git", projectWords[(j+k)%len(projectWords)], k),
			Branch:   "main",
			Provider: "github",
		})
	}
	if r.IntN(3) == 0 {
		timeout := 3600 * (1 + r.IntN(48))
		ps.Spec.InactivityTimeoutSeconds = &timeout
	}
	return ps
}
