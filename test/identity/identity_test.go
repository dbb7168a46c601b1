package identity

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ambient-code/agentic-operator/test/manifests"
)

const shipped = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: op, namespace: sys, labels: {app.kubernetes.io/component: operator}}
spec: {template: {spec: {serviceAccountName: op-sa}}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: op-sa, namespace: sys}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: webhook, namespace: sys}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: op}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get, create]}
- {apiGroups: [x.io], resources: [things/finalizers], verbs: [update]}
- {apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [bind], resourceNames: [a]}
- {nonResourceURLs: [/metrics], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: someone-else}
rules: [{apiGroups: [""], resources: [secrets], verbs: [list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: op}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: op}
subjects: [{kind: ServiceAccount, name: op-sa, namespace: sys}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: else}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: someone-else}
subjects: [{kind: ServiceAccount, name: webhook, namespace: sys}]
`

func TestFromObjectsFindsTheOperatorsRoles(t *testing.T) {
	objs, err := manifests.Decode([]byte(shipped))
	require.NoError(t, err)
	op, err := fromObjects(objs)
	require.NoError(t, err)
	assert.Equal(t, "system:serviceaccount:sys:op-sa", op.Username())
	require.Len(t, op.Roles, 1, "only the roles bound to the operator's ServiceAccount")
	assert.Equal(t, "op", op.Roles[0].GetName())
	assert.Len(t, op.Objects, 3, "its ServiceAccount, its binding and its role")

	requested, checked, err := Granted(op.Roles)
	require.NoError(t, err)
	assert.Equal(t, []Permission{{"", "pods", "create"}, {"", "pods", "get"}}, requested)
	assert.Equal(t, []Permission{{"rbac.authorization.k8s.io", "clusterroles", "bind"}, {"x.io", "things/finalizers", "update"}}, checked)
}

func TestFromObjectsWithoutAnOperatorDeployment(t *testing.T) {
	objs, err := manifests.Decode([]byte(`{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"x"}}`))
	require.NoError(t, err)
	_, err = fromObjects(objs)
	assert.ErrorContains(t, err, "no operator Deployment")
}

func TestUsedReadsTheImpersonatedUsersRequests(t *testing.T) {
	log := `{"verb":"get","user":{"username":"admin"},"impersonatedUser":{"username":"op"},"objectRef":{"resource":"pods","apiGroup":""},"responseStatus":{"code":200}}
{"verb":"patch","user":{"username":"admin"},"impersonatedUser":{"username":"op"},"objectRef":{"resource":"agenticsessions","subresource":"status","apiGroup":"vteam.ambient-code"},"responseStatus":{"code":200}}
{"verb":"delete","user":{"username":"admin"},"impersonatedUser":{"username":"op"},"objectRef":{"resource":"secrets","apiGroup":""},"responseStatus":{"code":403}}
{"verb":"list","user":{"username":"admin"},"objectRef":{"resource":"secrets","apiGroup":""},"responseStatus":{"code":200}}
{"verb":"get","user":{"username":"op"},"requestURI":"/version","responseStatus":{"code":200}}
`
	path := filepath.Join(t.TempDir(), "audit.log")
	require.NoError(t, os.WriteFile(path, []byte(log), 0o600))
	used, refused, err := Used(path, "op")
	require.NoError(t, err)
	assert.Equal(t, []Permission{{"", "pods", "get"}, {"vteam.ambient-code", "agenticsessions/status", "patch"}}, used)
	assert.Equal(t, []Permission{{"", "secrets", "delete"}}, refused)
	assert.Equal(t, []Permission{{"", "pods", "get"}}, Difference(used, []Permission{{"vteam.ambient-code", "agenticsessions/status", "patch"}}))
}

func TestWithImplied(t *testing.T) {
	got := WithImplied([]Permission{{"", "pods", "watch"}, {"events.k8s.io", "events", "create"}, {"", "secrets", "get"}})
	assert.ElementsMatch(t, []Permission{
		{"", "pods", "list"}, {"", "pods", "watch"}, {"events.k8s.io", "events", "create"},
		{"", "secrets", "get"}, {"events.k8s.io", "events", "patch"},
	}, got)
}
