package platformconfig

import "fmt"

// BackendURL is the in-cluster backend API the runner talks to
// (BACKEND_API_URL); the platform derives it from BACKEND_NAMESPACE rather than
// reading the BACKEND_API_URL its manifests set.
func (c Config) BackendURL() string {
	return fmt.Sprintf("http://backend-service.%s.svc.cluster.local:8080/api", c.BackendNamespace)
}
