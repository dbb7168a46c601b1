{{/* Object name: namePrefix + the name config/ gives it. */}}
{{- define "ao.name" -}}
{{- printf "%s%s" .root.Values.namePrefix .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object: config/default's two, then helm's standard ones. */}}
{{- define "ao.labels" -}}
app.kubernetes.io/name: agentic-operator
app.kubernetes.io/part-of: ambient-code
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "ao.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- end -}}

{{/* The serving Certificate's namespace/name, for cert-manager.io/inject-ca-from. */}}
{{- define "ao.injectCAFrom" -}}
{{ .Release.Namespace }}/{{ include "ao.name" (dict "root" . "name" "serving-cert") }}
{{- end -}}

{{/* clientConfig of one webhook: the Service, plus caBundle when bringing your own. */}}
{{- define "ao.clientConfig" -}}
clientConfig:
  service:
    name: {{ include "ao.name" (dict "root" .root "name" "webhook-service") }}
    namespace: {{ .root.Release.Namespace }}
    path: {{ .path }}
  {{- if not .root.Values.certificates.certManager.enabled }}
  caBundle: {{ required "certificates.caBundle is required when certificates.certManager.enabled=false" .root.Values.certificates.caBundle }}
  {{- end }}
{{- end -}}

{{/* The matchCondition both pod webhooks use (config/webhook/manifests.yaml). */}}
{{- define "ao.podMatchCondition" -}}
- name: runner-pod-or-claims-to-be
  expression: |-
    [object, oldObject].exists(o, o != null && (
      (has(o.metadata.labels) &&
        ('ambient-code.io/runner' in o.metadata.labels || 'agentic-session' in o.metadata.labels)) ||
      (has(o.metadata.ownerReferences) && o.metadata.ownerReferences.exists(r,
        has(r.controller) && r.controller == true &&
        r.kind == 'AgenticSession' && r.apiVersion.startsWith('vteam.ambient-code/')))))
{{- end -}}

{{/* failurePolicy of a pod webhook: webhook.failurePolicy.pods where the
     policies that back it are installed (.backed), Fail where they are not,
     since nothing else would keep the pod rules while the webhook is down. */}}
{{- define "ao.podFailurePolicy" -}}
{{- if .backed -}}
{{ .root.Values.webhook.failurePolicy.pods }}
{{- else -}}
Fail
{{- end -}}
{{- end -}}
