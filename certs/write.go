package certs

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"
)

// WriteDir writes CAFile, KeyFile and CertFile into dir, creating it if
// needed. Each file is replaced by a rename, so a reader never sees a half
// written file; between the key and the certificate renames a reader can see
// a mismatched pair, which certificate watchers retry on.
func (s *Serving) WriteDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating certificate directory: %w", err)
	}
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{CAFile, s.CAPEM, 0o644},
		{KeyFile, s.KeyPEM, 0o600},
		{CertFile, s.CertPEM, 0o644},
	}
	for _, f := range files {
		if err := writeAtomic(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			return err
		}
	}
	return nil
}

// GenerateDir makes a fresh CA, issues a serving certificate for dnsNames and
// ips from it and writes both into dir: the one call tests and the local run need.
func GenerateDir(dir string, dnsNames []string, ips []net.IP, validity time.Duration) (*CA, *Serving, error) {
	ca, err := GenerateCA("agentic-operator throwaway CA", validity)
	if err != nil {
		return nil, nil, err
	}
	s, err := ca.IssueServing(dnsNames, ips, validity)
	if err != nil {
		return nil, nil, err
	}
	if err := s.WriteDir(dir); err != nil {
		return nil, nil, err
	}
	return ca, s, nil
}

func writeAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
