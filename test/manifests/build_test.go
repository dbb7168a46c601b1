package manifests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeSkipsEmptyDocumentsAndKeepsOrder(t *testing.T) {
	stream := []byte(`---
apiVersion: v1
kind: Namespace
metadata:
  name: a
---
# only a comment
---
{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "b", "namespace": "a"}}
`)
	objs, err := Decode(stream)
	require.NoError(t, err)
	require.Len(t, objs, 2)
	assert.Equal(t, "Namespace", objs[0].GetKind())
	assert.Equal(t, "a", objs[0].GetName())
	assert.Equal(t, "ServiceAccount", objs[1].GetKind())
	assert.Equal(t, "a", objs[1].GetNamespace())
}

func TestDecodeRefusesObjectsWithoutKind(t *testing.T) {
	_, err := Decode([]byte("apiVersion: v1\nmetadata:\n  name: nameless-kind\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"nameless-kind"`)
	assert.Contains(t, err.Error(), "apiVersion and kind are required")
}

func TestDecodeReportsBrokenYAML(t *testing.T) {
	_, err := Decode([]byte("apiVersion: v1\nkind: [unclosed\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "decoding document 0")
}

func TestOfKindFilters(t *testing.T) {
	objs, err := Decode([]byte("apiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: x}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: t}\n"))
	require.NoError(t, err)
	got := OfKind(objs, "Service")
	require.Len(t, got, 2)
	assert.Equal(t, []string{"s", "t"}, []string{got[0].GetName(), got[1].GetName()})
	assert.Empty(t, OfKind(objs, "Pod"))
}
