package certs

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGenerateCAIsAnIssuerOnly(t *testing.T) {
	ca, err := GenerateCA("test CA", time.Hour)
	require.NoError(t, err)

	assert.True(t, ca.Cert.IsCA)
	assert.True(t, ca.Cert.MaxPathLenZero, "a throwaway CA must not mint intermediates")
	assert.Equal(t, "test CA", ca.Cert.Subject.CommonName)
	assert.NotZero(t, ca.Cert.KeyUsage&x509.KeyUsageCertSign)
	assert.Equal(t, x509.ECDSA, ca.Cert.PublicKeyAlgorithm)
}

func TestIssueServingVerifiesAgainstTheCA(t *testing.T) {
	ca, err := GenerateCA("test CA", time.Hour)
	require.NoError(t, err)
	ip := net.IPv4(127, 0, 0, 1)
	s, err := ca.IssueServing(testHosts, []net.IP{ip}, 30*time.Minute)
	require.NoError(t, err)

	assert.False(t, s.Leaf.IsCA)
	assert.Equal(t, testHosts[0], s.Leaf.Subject.CommonName)
	assert.Equal(t, testHosts, s.Leaf.DNSNames)
	assert.WithinDuration(t, time.Now().Add(30*time.Minute), s.Leaf.NotAfter, time.Minute)
	assert.Equal(t, ca.CertPEM, s.CAPEM)

	for _, name := range append([]string{ip.String()}, testHosts...) {
		_, err := s.Leaf.Verify(x509.VerifyOptions{
			DNSName:   name,
			Roots:     ca.Pool(),
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		})
		assert.NoError(t, err, name)
	}

	other, err := GenerateCA("other CA", time.Hour)
	require.NoError(t, err)
	_, err = s.Leaf.Verify(x509.VerifyOptions{DNSName: testHosts[0], Roots: other.Pool()})
	assert.Error(t, err, "another CA must not vouch for it")

	pair, err := s.TLSCertificate()
	require.NoError(t, err)
	assert.Equal(t, s.Leaf.Raw, pair.Certificate[0])
}

func TestIssueServingGivesEachCertificateItsOwnSerial(t *testing.T) {
	ca, err := GenerateCA("test CA", time.Hour)
	require.NoError(t, err)
	a, err := ca.IssueServing(testHosts, nil, time.Hour)
	require.NoError(t, err)
	b, err := ca.IssueServing(testHosts, nil, time.Hour)
	require.NoError(t, err)

	assert.NotEqual(t, a.Leaf.SerialNumber, b.Leaf.SerialNumber)
	assert.NotEqual(t, ca.Cert.SerialNumber, a.Leaf.SerialNumber)
}

func TestIssueServingIPOnlyUsesTheIPAsCommonName(t *testing.T) {
	ca, err := GenerateCA("test CA", time.Hour)
	require.NoError(t, err)
	s, err := ca.IssueServing(nil, []net.IP{net.IPv6loopback}, time.Hour)
	require.NoError(t, err)
	assert.Equal(t, "::1", s.Leaf.Subject.CommonName)
}

func TestIssueServingRefusesBadInput(t *testing.T) {
	ca, err := GenerateCA("test CA", time.Hour)
	require.NoError(t, err)

	_, err = ca.IssueServing(nil, nil, time.Hour)
	assert.ErrorContains(t, err, "no DNS names or IP addresses")

	_, err = ca.IssueServing(testHosts, nil, 0)
	assert.ErrorContains(t, err, "validity must be positive")

	_, err = GenerateCA("test CA", -time.Hour)
	assert.ErrorContains(t, err, "validity must be positive")
}

func TestWriteDirWritesALoadablePairWithPrivateKeyMode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "certs")
	ca, s, err := GenerateDir(dir, testHosts, nil, time.Hour)
	require.NoError(t, err)

	key, err := os.Stat(filepath.Join(dir, KeyFile))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), key.Mode().Perm())

	caPEM, err := os.ReadFile(filepath.Join(dir, CAFile))
	require.NoError(t, err)
	assert.Equal(t, ca.CertPEM, caPEM)

	p, err := LoadDir(dir, Checks{Hosts: testHosts})
	require.NoError(t, err)
	assert.Equal(t, s.Leaf.SerialNumber, p.Leaf.SerialNumber)

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 3, "no temporary files are left behind")
}

func TestWriteDirReplacesAnEarlierPair(t *testing.T) {
	dir, first := writePair(t)
	ca, err := GenerateCA("rotated CA", time.Hour)
	require.NoError(t, err)
	second, err := ca.IssueServing(testHosts, nil, time.Hour)
	require.NoError(t, err)

	require.NoError(t, second.WriteDir(dir))

	p, err := LoadDir(dir, Checks{})
	require.NoError(t, err)
	assert.Equal(t, second.Leaf.SerialNumber, p.Leaf.SerialNumber)
	assert.NotEqual(t, first.Leaf.SerialNumber, p.Leaf.SerialNumber)

	// The loaded pair completes a handshake with a client trusting the new CA.
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	srv := tls.Server(server, &tls.Config{Certificates: []tls.Certificate{p.TLS}})
	go func() { _ = srv.Handshake() }()
	cli := tls.Client(client, &tls.Config{ServerName: testHosts[0], RootCAs: ca.Pool()})
	require.NoError(t, cli.Handshake())
	assert.Equal(t, second.Leaf.SerialNumber, cli.ConnectionState().PeerCertificates[0].SerialNumber)
}
