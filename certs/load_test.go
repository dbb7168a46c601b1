package certs

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testHosts = []string{"webhook.system.svc", "webhook.system.svc.cluster.local"}

// writePair issues a pair for testHosts and 127.0.0.1 into a fresh directory.
func writePair(t *testing.T) (string, *Serving) {
	t.Helper()
	dir := t.TempDir()
	_, s, err := GenerateDir(dir, testHosts, []net.IP{net.IPv4(127, 0, 0, 1)}, time.Hour)
	require.NoError(t, err)
	return dir, s
}

func TestLoadDirAcceptsAGoodPair(t *testing.T) {
	dir, s := writePair(t)

	p, err := LoadDir(dir, Checks{Hosts: append([]string{"127.0.0.1"}, testHosts...)})
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, CertFile), p.CertPath)
	assert.Equal(t, filepath.Join(dir, KeyFile), p.KeyPath)
	assert.Equal(t, s.Leaf.SerialNumber, p.Leaf.SerialNumber)
	assert.Same(t, p.Leaf, p.TLS.Leaf)
	require.Len(t, p.TLS.Certificate, 1)
	assert.Equal(t, s.Leaf.Raw, p.TLS.Certificate[0])
}

func TestLoadNamesAMissingFile(t *testing.T) {
	for _, missing := range []string{CertFile, KeyFile} {
		t.Run(missing, func(t *testing.T) {
			dir, _ := writePair(t)
			require.NoError(t, os.Remove(filepath.Join(dir, missing)))

			_, err := LoadDir(dir, Checks{})
			require.ErrorIs(t, err, os.ErrNotExist)
			assert.Contains(t, err.Error(), filepath.Join(dir, missing))
		})
	}
}

func TestLoadNamesAFileWithoutPEM(t *testing.T) {
	for _, broken := range []string{CertFile, KeyFile} {
		t.Run(broken, func(t *testing.T) {
			dir, _ := writePair(t)
			path := filepath.Join(dir, broken)
			require.NoError(t, os.WriteFile(path, []byte("not pem at all\n"), 0o600))

			_, err := LoadDir(dir, Checks{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), path)
			assert.Contains(t, err.Error(), "no PEM")
		})
	}
}

func TestLoadNamesACorruptBlock(t *testing.T) {
	dir, _ := writePair(t)
	path := filepath.Join(dir, KeyFile)
	bad := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte{1, 2, 3}})
	require.NoError(t, os.WriteFile(path, bad, 0o600))

	_, err := LoadDir(dir, Checks{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), path)
	assert.Contains(t, err.Error(), "parsing EC PRIVATE KEY")
}

func TestLoadRejectsAKeyFromAnotherPair(t *testing.T) {
	dir, _ := writePair(t)
	other, _ := writePair(t)
	keyPath := filepath.Join(other, KeyFile)

	_, err := Load(filepath.Join(dir, CertFile), keyPath, Checks{})
	require.ErrorIs(t, err, ErrKeyMismatch)
	assert.Contains(t, err.Error(), keyPath)
	assert.Contains(t, err.Error(), filepath.Join(dir, CertFile))
}

func TestLoadChecksValidityAtNow(t *testing.T) {
	dir, s := writePair(t)
	certPath := filepath.Join(dir, CertFile)

	_, err := LoadDir(dir, Checks{Now: s.Leaf.NotAfter.Add(time.Second)})
	require.ErrorIs(t, err, ErrExpired)
	assert.Contains(t, err.Error(), certPath)

	_, err = LoadDir(dir, Checks{Now: s.Leaf.NotBefore.Add(-time.Second)})
	require.ErrorIs(t, err, ErrNotYetValid)
	assert.Contains(t, err.Error(), certPath)

	_, err = LoadDir(dir, Checks{Now: s.Leaf.NotAfter})
	assert.NoError(t, err, "the last valid instant is still valid")
}

func TestLoadRequiresEveryHost(t *testing.T) {
	dir, _ := writePair(t)

	_, err := LoadDir(dir, Checks{Hosts: []string{testHosts[0], "webhook.other.svc"}})
	require.ErrorIs(t, err, ErrHostMissing)
	assert.Contains(t, err.Error(), `"webhook.other.svc"`)
	assert.Contains(t, err.Error(), filepath.Join(dir, CertFile))

	_, err = LoadDir(dir, Checks{Hosts: []string{"10.0.0.1"}})
	require.ErrorIs(t, err, ErrHostMissing, "an IP SAN is required like a DNS name")
}

// cert-manager writes ECDSA keys as SEC 1 and RSA keys as PKCS#1 by default.
func TestLoadReadsCertManagerKeyEncodings(t *testing.T) {
	ca, err := GenerateCA("test", time.Hour)
	require.NoError(t, err)

	t.Run("SEC 1", func(t *testing.T) {
		dir, s := writePair(t)
		block, _ := pem.Decode(s.KeyPEM)
		key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		require.NoError(t, err)
		der, err := x509.MarshalECPrivateKey(key.(*ecdsa.PrivateKey))
		require.NoError(t, err)
		writePEM(t, filepath.Join(dir, KeyFile), "EC PRIVATE KEY", der)

		_, err = LoadDir(dir, Checks{})
		assert.NoError(t, err)
	})

	t.Run("PKCS#1 RSA", func(t *testing.T) {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		tmpl, err := template("rsa", time.Hour)
		require.NoError(t, err)
		tmpl.DNSNames = testHosts
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.key)
		require.NoError(t, err)
		dir := t.TempDir()
		writePEM(t, filepath.Join(dir, CertFile), "CERTIFICATE", der)
		writePEM(t, filepath.Join(dir, KeyFile), "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key))

		p, err := LoadDir(dir, Checks{Hosts: testHosts})
		require.NoError(t, err)
		assert.Equal(t, x509.RSA, p.Leaf.PublicKeyAlgorithm)
	})
}

func TestLoadKeepsTheChainAfterTheLeaf(t *testing.T) {
	dir, s := writePair(t)
	chain := append(append([]byte{}, s.CertPEM...), s.CAPEM...)
	require.NoError(t, os.WriteFile(filepath.Join(dir, CertFile), chain, 0o644))

	p, err := LoadDir(dir, Checks{})
	require.NoError(t, err)
	assert.Len(t, p.TLS.Certificate, 2)
	assert.Equal(t, s.Leaf.SerialNumber, p.Leaf.SerialNumber, "the first block is the leaf")
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
}
