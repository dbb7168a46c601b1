package metricsauth

import (
	"crypto/tls"
	"flag"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ambient-code/agentic-operator/certs"
)

func TestFlagsDefaultToKubebuilders(t *testing.T) {
	var s Serving
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	s.BindFlags(fs)
	require.NoError(t, fs.Parse(nil))
	assert.Equal(t, Serving{CertName: "tls.crt", KeyName: "tls.key"}, s, "secure, self-signed")

	require.NoError(t, fs.Parse([]string{"--metrics-secure=false"}))
	assert.True(t, s.Insecure)
	require.NoError(t, fs.Parse([]string{"--metrics-secure"}))
	assert.False(t, s.Insecure, "a bare --metrics-secure turns it back on")
	require.Error(t, fs.Parse([]string{"--metrics-secure=sometimes"}))
}

func TestServerOptions(t *testing.T) {
	opts, watcher, err := Serving{}.ServerOptions("")
	require.NoError(t, err)
	assert.Equal(t, DefaultBindAddress, opts.BindAddress)
	assert.True(t, opts.SecureServing)
	assert.NotNil(t, opts.FilterProvider, "secure serving authenticates and authorizes")
	assert.Nil(t, watcher, "self-signed: nothing to watch")
	var cfg tls.Config
	for _, o := range opts.TLSOpts {
		o(&cfg)
	}
	assert.Equal(t, []string{"http/1.1"}, cfg.NextProtos)
	assert.Equal(t, uint16(tls.VersionTLS12), cfg.MinVersion)

	opts, _, err = Serving{Insecure: true}.ServerOptions(":8080")
	require.NoError(t, err)
	assert.False(t, opts.SecureServing)
	assert.Nil(t, opts.FilterProvider)

	opts, _, err = Serving{}.ServerOptions("0")
	require.NoError(t, err)
	assert.Equal(t, "0", opts.BindAddress)

	_, _, err = Serving{Insecure: true, CertDir: "/certs"}.ServerOptions(":8080")
	assert.ErrorContains(t, err, "--metrics-cert-path /certs with --metrics-secure=false")

	dir := t.TempDir()
	_, _, err = Serving{CertDir: dir}.ServerOptions(":8443")
	assert.ErrorContains(t, err, filepath.Join(dir, "tls.crt"), "a given but missing pair is an error, not a self-signed fallback")

	_, _, err = certs.GenerateDir(dir, []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, time.Hour)
	require.NoError(t, err)
	opts, watcher, err = Serving{CertDir: dir, CertName: certs.CertFile, KeyName: certs.KeyFile}.ServerOptions(":8443")
	require.NoError(t, err)
	require.NotNil(t, watcher)
	cfg = tls.Config{}
	for _, o := range opts.TLSOpts {
		o(&cfg)
	}
	require.NotNil(t, cfg.GetCertificate)
	c, err := cfg.GetCertificate(nil)
	require.NoError(t, err)
	assert.NotNil(t, c)
}
