package kubeletsim

import (
	"fmt"
	"net/url"
	"path"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// What the platform's runner image (components/runners/ambient-runner) fixes:
// its CMD serves uvicorn on 8001 whatever AGUI_PORT says, its ENV defaults
// RUNNER_TYPE, and its code reads the BOT token from one file.
const (
	runnerImagePort  = 8001
	runnerHealthPath = "/health"
	botTokenDir      = "/var/run/secrets/ambient"
	botTokenFile     = "bot-token"
	botTokenKey      = "k8s-token"
	workspaceVolume  = "workspace"
	defaultWorkspace = "/workspace"
)

// imageEnv is the runner image's ENV that the checks read, under the pod's env.
var imageEnv = map[string]string{"RUNNER_TYPE": "claude-agent-sdk"}

// runnerTypes are the bridges main.py knows; any other RUNNER_TYPE raises at import.
var runnerTypes = []string{"claude-agent-sdk", "gemini-cli", "langgraph"}

// runner checks the container ambient-code-runner against runner-contract §8.
type runner struct {
	*kubelet
	container *corev1.Container
	env       map[string]string
}

func (r *runner) get(name string) string {
	if v, ok := r.env[name]; ok {
		return v
	}
	return imageEnv[name]
}

// startUp returns the message of the first check that keeps the runner from
// coming up usable, or "". Quoted runner log lines are its own words; where
// the runner would start and only degrade (it logs and carries on), this is
// stricter than production on purpose, so the mistake cannot pass a test, and
// the message says what the runner would have done.
func (r *runner) startUp() string {
	for _, check := range []func() string{
		r.runnerType, r.port, r.probes,
		r.sessionID, r.project, r.backendURL,
		r.botToken, r.workspace,
	} {
		if msg := check(); msg != "" {
			return msg
		}
	}
	return ""
}

// runnerType: main.py looks the bridge up at import, so a bad value ends the
// process before it serves; the traceback's last line is the message.
func (r *runner) runnerType() string {
	t := strings.ToLower(strings.TrimSpace(r.get("RUNNER_TYPE")))
	for _, known := range runnerTypes {
		if t == known {
			return ""
		}
	}
	quoted := make([]string, len(runnerTypes))
	for i, known := range runnerTypes {
		quoted[i] = pyRepr(known)
	}
	sort.Strings(quoted)
	return fmt.Sprintf("ValueError: Unknown RUNNER_TYPE=%s. Available: [%s]", pyRepr(t), strings.Join(quoted, ", "))
}

// port: the Service, the NetworkPolicy and the probes reach the runner through
// the container port, and the image serves only on 8001.
func (r *runner) port() string {
	for _, p := range r.container.Ports {
		if p.Name == v1alpha1.RunnerPortName && p.ContainerPort == runnerImagePort &&
			(p.Protocol == "" || p.Protocol == corev1.ProtocolTCP) {
			return ""
		}
	}
	return fmt.Sprintf("the runner serves on %d (image CMD: uvicorn main:app --host 0.0.0.0 --port %d), "+
		"but the container declares no TCP port %d named %q (ports: %s)",
		runnerImagePort, runnerImagePort, runnerImagePort, v1alpha1.RunnerPortName, describePorts(r.container.Ports))
}

// probes: /health is the one path the runner answers without the session
// token; a probe elsewhere never passes (readiness) or kills the runner (liveness).
func (r *runner) probes() string {
	if r.container.ReadinessProbe == nil {
		return fmt.Sprintf("no readinessProbe: the runner needs an HTTP GET of %s on port %d to be reported ready only once it serves",
			runnerHealthPath, runnerImagePort)
	}
	if msg := r.healthProbe("readinessProbe", r.container.ReadinessProbe); msg != "" {
		return msg
	}
	if r.container.LivenessProbe != nil {
		return r.healthProbe("livenessProbe", r.container.LivenessProbe)
	}
	return ""
}

func (r *runner) healthProbe(kind string, p *corev1.Probe) string {
	get := p.HTTPGet
	if get == nil {
		return fmt.Sprintf("%s is not an HTTP GET: the runner answers health checks at GET %s on port %d", kind, runnerHealthPath, runnerImagePort)
	}
	port := r.probePort(get.Port)
	if get.Path != runnerHealthPath || port != runnerImagePort || (get.Scheme != "" && get.Scheme != corev1.URISchemeHTTP) {
		return fmt.Sprintf("%s is GET %s://:%s%s: the runner answers health checks only at GET http://:%d%s",
			kind, strings.ToLower(string(orHTTP(get.Scheme))), get.Port.String(), get.Path, runnerImagePort, runnerHealthPath)
	}
	return ""
}

// probePort resolves a probe's port, named or numbered, as the kubelet does.
func (r *runner) probePort(p intstr.IntOrString) int32 {
	if p.Type == intstr.Int {
		return p.IntVal
	}
	for _, cp := range r.container.Ports {
		if cp.Name == p.StrVal {
			return cp.ContainerPort
		}
	}
	return 0
}

// sessionID: the runner defaults it to "unknown" and builds its backend URLs and
// thread ID from it, so it must be the session's name.
func (r *runner) sessionID() string {
	id := r.get("SESSION_ID")
	if id == "" {
		return `SESSION_ID is not set: the runner would start as session "unknown" (its default) and address the backend with that ID`
	}
	if want := r.pod.Labels[v1alpha1.LabelSession]; want != "" && id != want {
		return fmt.Sprintf("SESSION_ID is %q but the pod belongs to session %q: the runner would address the backend as another session", id, want)
	}
	return ""
}

// project: most of the runner takes PROJECT_NAME first, the repo-added
// notification reads only AGENTIC_SESSION_NAMESPACE; both must name the project.
func (r *runner) project() string {
	project, ns := r.get("PROJECT_NAME"), r.get("AGENTIC_SESSION_NAMESPACE")
	if strings.TrimSpace(project) == "" && strings.TrimSpace(ns) == "" {
		return "Cannot auto-execute INITIAL_PROMPT: BACKEND_API_URL or PROJECT_NAME not set"
	}
	for _, v := range []struct{ name, value string }{{"PROJECT_NAME", project}, {"AGENTIC_SESSION_NAMESPACE", ns}} {
		if strings.TrimSpace(v.value) == "" {
			return fmt.Sprintf("%s is not set: the runner would address the backend for no project where it reads only %s", v.name, v.name)
		}
		if v.value != r.pod.Namespace {
			return fmt.Sprintf("%s is %q, not the pod's namespace %q: the runner would address the backend for another project", v.name, v.value, r.pod.Namespace)
		}
	}
	return ""
}

// backendURL: the runner appends /projects/... to BACKEND_API_URL, and sends
// credentials only to in-cluster hosts (platform/auth.py · _fetch_credential).
func (r *runner) backendURL() string {
	raw := strings.TrimRight(r.get("BACKEND_API_URL"), "/")
	if raw == "" {
		return "Cannot auto-execute INITIAL_PROMPT: BACKEND_API_URL or PROJECT_NAME not set"
	}
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return fmt.Sprintf("BACKEND_API_URL %q has no host: every backend call of the runner would fail", raw)
	}
	host := u.Hostname()
	if !strings.HasSuffix(host, ".svc.cluster.local") && !strings.HasSuffix(host, ".svc") &&
		host != "localhost" && host != "127.0.0.1" {
		return "Refusing to send credentials to external host: " + host
	}
	if !strings.HasSuffix(u.Path, "/api") {
		return fmt.Sprintf("BACKEND_API_URL %q does not end in /api: the runner appends /projects/<project>/... to it, and the backend serves those routes under /api", raw)
	}
	return ""
}

// botToken: the runner reads its BOT token from a file the kubelet refreshes,
// so the Secret must be mounted as a directory (a subPath mount never sees a
// refresh) with k8s-token projected to bot-token.
func (r *runner) botToken() string {
	const missing = botTokenDir + "/" + botTokenFile + " is not there: the runner would call the backend without a BOT token (every call 401s); "
	m := mountAt(r.container, botTokenDir)
	if m == nil {
		return missing + "nothing is mounted at " + botTokenDir
	}
	v := volume(r.pod, m.Name)
	if v == nil || v.Secret == nil {
		return missing + fmt.Sprintf("volume %q mounted at %s is not a Secret volume", m.Name, botTokenDir)
	}
	if m.SubPath != "" || m.SubPathExpr != "" {
		return missing + fmt.Sprintf("volume %q is mounted with a subPath, which the kubelet never refreshes", m.Name)
	}
	for _, item := range v.Secret.Items {
		if item.Key == botTokenKey && path.Clean(item.Path) == botTokenFile {
			return ""
		}
	}
	return missing + fmt.Sprintf("Secret volume %q does not project key %s to %s", m.Name, botTokenKey, botTokenFile)
}

// workspace: the runner creates its working directory under WORKSPACE_PATH; the
// image has no writable /workspace for UID 1001, so the pod's workspace volume
// must be mounted there, writable. The message is the runner's log line.
func (r *runner) workspace() string {
	if volume(r.pod, workspaceVolume) == nil {
		return ""
	}
	root := r.get("WORKSPACE_PATH")
	if root == "" {
		root = defaultWorkspace
	}
	m := mountAt(r.container, root)
	switch {
	case m == nil || m.SubPath != "" || m.SubPathExpr != "":
		return fmt.Sprintf("Failed to create working directory: [Errno 13] Permission denied: %s (the pod's %q volume is not mounted at %s)",
			pyRepr(root), workspaceVolume, root)
	case m.ReadOnly:
		return fmt.Sprintf("Failed to create working directory: [Errno 30] Read-only file system: %s (volume %q is mounted read-only at %s)",
			pyRepr(path.Join(root, "artifacts")), m.Name, root)
	}
	return ""
}

// firstRun returns what the runner would answer its first run with, or "". The
// real runner checks the model credentials only then (bridge._ensure_ready →
// setup_sdk_authentication) and keeps serving after the RUN_ERROR, so a pod
// that fails here runs in production too; the simulator reports it the same
// way, through CheckRunnerPod and its log, not as a container failure. Only
// the Claude bridge's rule is checked.
func (r *runner) firstRun() string {
	if strings.ToLower(strings.TrimSpace(r.get("RUNNER_TYPE"))) != "claude-agent-sdk" {
		return ""
	}
	apiKey := r.get("ANTHROPIC_API_KEY")
	vertex := truthy(r.get("USE_VERTEX")) || truthy(r.get("CLAUDE_CODE_USE_VERTEX"))
	if !vertex {
		if apiKey == "" {
			return "Either ANTHROPIC_API_KEY or USE_VERTEX=1 must be set"
		}
		return ""
	}
	// With Vertex on, the runner ignores the API key and needs all of Vertex.
	creds := strings.TrimSpace(r.get("GOOGLE_APPLICATION_CREDENTIALS"))
	if creds == "" {
		return "GOOGLE_APPLICATION_CREDENTIALS must be set when USE_VERTEX is enabled"
	}
	if !r.fileExists(creds) {
		return "Service account key file not found at " + creds
	}
	if strings.TrimSpace(r.get("ANTHROPIC_VERTEX_PROJECT_ID")) == "" {
		return "ANTHROPIC_VERTEX_PROJECT_ID must be set when USE_VERTEX is enabled"
	}
	if strings.TrimSpace(r.get("CLOUD_ML_REGION")) == "" {
		return "CLOUD_ML_REGION must be set when USE_VERTEX is enabled"
	}
	return ""
}

// fileExists says whether p is a file of a Secret or ConfigMap volume mounted in
// the runner container. The image ships no key file, and other volumes start
// empty (nothing in the pod writes one), so nothing else counts.
func (r *runner) fileExists(p string) bool {
	p = path.Clean(p)
	var best *corev1.VolumeMount
	for i := range r.container.VolumeMounts {
		m := &r.container.VolumeMounts[i]
		mp := path.Clean(m.MountPath)
		if (p == mp || strings.HasPrefix(p, mp+"/")) && (best == nil || len(mp) > len(path.Clean(best.MountPath))) {
			best = m
		}
	}
	if best == nil {
		return false
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(p, path.Clean(best.MountPath)), "/")
	if best.SubPath != "" {
		rel = path.Join(best.SubPath, rel)
	}
	if rel == "" {
		return true // the mount itself: a directory, which Path.exists accepts
	}
	files, err := r.volumeFiles(volume(r.pod, best.Name))
	if err != nil {
		return false
	}
	for _, f := range files {
		if f == rel || strings.HasPrefix(f, rel+"/") {
			return true
		}
	}
	return false
}

// volumeFiles lists the files the kubelet projects from a Secret or ConfigMap
// volume: the items' paths, or every key.
func (r *runner) volumeFiles(v *corev1.Volume) ([]string, error) {
	var keys []string
	var items []corev1.KeyToPath
	switch {
	case v == nil:
		return nil, nil
	case v.Secret != nil:
		s, err := r.secret(v.Secret.SecretName)
		if err != nil {
			return nil, ignoreNotFound(err)
		}
		for k := range s.Data {
			keys = append(keys, k)
		}
		items = v.Secret.Items
	case v.ConfigMap != nil:
		cm, err := r.configMap(v.ConfigMap.Name)
		if err != nil {
			return nil, ignoreNotFound(err)
		}
		for k := range cm.Data {
			keys = append(keys, k)
		}
		for k := range cm.BinaryData {
			keys = append(keys, k)
		}
		items = v.ConfigMap.Items
	default:
		return nil, nil
	}
	if len(items) == 0 {
		return keys, nil
	}
	files := make([]string, 0, len(items))
	for _, item := range items {
		files = append(files, path.Clean(item.Path))
	}
	return files, nil
}

func ignoreNotFound(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// mountAt is the mount of c at exactly dir, if any.
func mountAt(c *corev1.Container, dir string) *corev1.VolumeMount {
	for i := range c.VolumeMounts {
		if path.Clean(c.VolumeMounts[i].MountPath) == path.Clean(dir) {
			return &c.VolumeMounts[i]
		}
	}
	return nil
}

func describePorts(ports []corev1.ContainerPort) string {
	if len(ports) == 0 {
		return "none"
	}
	out := make([]string, 0, len(ports))
	for _, p := range ports {
		out = append(out, fmt.Sprintf("%s=%d/%s", p.Name, p.ContainerPort, orTCP(p.Protocol)))
	}
	return strings.Join(out, ", ")
}

func orTCP(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

func orHTTP(s corev1.URIScheme) corev1.URIScheme {
	if s == "" {
		return corev1.URISchemeHTTP
	}
	return s
}

// truthy is the runner's is_env_truthy.
func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes":
		return true
	}
	return false
}

// pyRepr quotes s as Python's repr does for the plain strings the runner's
// messages show, so those read exactly as the runner prints them.
func pyRepr(s string) string {
	quote := "'"
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		quote = `"`
	}
	var b strings.Builder
	b.WriteString(quote)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case string(r) == quote:
			b.WriteString(`\` + quote)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteString(quote)
	return b.String()
}
