// Package certs loads and checks the webhook's serving certificate and makes
// throwaway CAs and serving certificates for tests and the local run.
package certs

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// File names inside a certificate directory, as cert-manager writes a
// kubernetes.io/tls Secret and as controller-runtime's webhook server reads it.
const (
	CertFile = "tls.crt"
	KeyFile  = "tls.key"
	CAFile   = "ca.crt"
)

// Reasons a pair fails its checks; match them with errors.Is.
var (
	ErrKeyMismatch = errors.New("private key does not match the certificate's public key")
	ErrExpired     = errors.New("certificate has expired")
	ErrNotYetValid = errors.New("certificate is not valid yet")
	ErrHostMissing = errors.New("certificate does not cover a required name")
)

// Checks are the conditions a serving pair must meet besides being readable
// and matching.
type Checks struct {
	// Hosts are DNS names or IP addresses the leaf certificate must cover.
	Hosts []string
	// Now is the time validity is checked at; zero means time.Now().
	Now time.Time
}

// Pair is a loaded and checked serving certificate.
type Pair struct {
	CertPath, KeyPath string
	Leaf              *x509.Certificate
	TLS               tls.Certificate
}

// LoadDir loads CertFile and KeyFile from dir and checks them.
func LoadDir(dir string, c Checks) (*Pair, error) {
	return Load(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile), c)
}

// Load reads a PEM certificate chain and private key and checks that the key
// matches the leaf, that the leaf is valid at c.Now and that it covers c.Hosts.
// Every error names the file or files it is about.
func Load(certPath, keyPath string, c Checks) (*Pair, error) {
	chain, leaf, err := readChain(certPath)
	if err != nil {
		return nil, err
	}
	key, err := readKey(keyPath)
	if err != nil {
		return nil, err
	}
	pub, ok := leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) {
		return nil, fmt.Errorf("key %s and certificate %s: %w", keyPath, certPath, ErrKeyMismatch)
	}

	now := c.Now
	if now.IsZero() {
		now = time.Now()
	}
	if now.After(leaf.NotAfter) {
		return nil, fmt.Errorf("certificate %s: %w (not after %s)", certPath, ErrExpired, leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if now.Before(leaf.NotBefore) {
		return nil, fmt.Errorf("certificate %s: %w (not before %s)", certPath, ErrNotYetValid, leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	for _, h := range c.Hosts {
		// VerifyHostname matches wildcards and IP SANs the way TLS clients do.
		if err := leaf.VerifyHostname(h); err != nil {
			return nil, fmt.Errorf("certificate %s: %w: %q (DNS SANs %q, IP SANs %v)", certPath, ErrHostMissing, h, leaf.DNSNames, leaf.IPAddresses)
		}
	}

	return &Pair{
		CertPath: certPath,
		KeyPath:  keyPath,
		Leaf:     leaf,
		TLS:      tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: leaf},
	}, nil
}

// readChain returns the DER blocks of every CERTIFICATE in the file and the
// parsed first one (the leaf).
func readChain(path string) ([][]byte, *x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading certificate: %w", err)
	}
	var chain [][]byte
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		if block.Type == "CERTIFICATE" {
			chain = append(chain, block.Bytes)
		}
	}
	if len(chain) == 0 {
		return nil, nil, fmt.Errorf("certificate %s: no PEM CERTIFICATE block", path)
	}
	leaf, err := x509.ParseCertificate(chain[0])
	if err != nil {
		return nil, nil, fmt.Errorf("certificate %s: parsing: %w", path, err)
	}
	return chain, leaf, nil
}

// readKey parses the first private key block in PKCS#8, PKCS#1 or SEC 1 form,
// the encodings cert-manager writes.
func readKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading private key: %w", err)
	}
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		var key any
		switch block.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("private key %s: parsing %s: %w", path, block.Type, err)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("private key %s: unsupported key type %T", path, key)
		}
		return signer, nil
	}
	return nil, fmt.Errorf("private key %s: no PEM private key block", path)
}
