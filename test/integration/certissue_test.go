package integration

import (
	"context"
	"crypto"
	"crypto/x509"
	"strings"
	"testing"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	"github.com/cert-manager/cert-manager/pkg/util/pki"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// issueCertificates does the work of cert-manager's controller, whose binaries
// this machine cannot run, for every Certificate in ns: it follows each spec with
// cert-manager's own pki package (the private key the spec asks for, the x509
// template built from its names, usages, duration and isCA) and signs it the way
// the Certificate's Issuer would (selfSigned, or ca from the Issuer's Secret).
// It writes the Secret as cert-manager does: tls.crt, tls.key, ca.crt and the
// cert-manager.io/certificate-name annotation that cainjector insists on.
// Certificates signed by a CA whose Secret is not there yet wait for a later round.
func issueCertificates(ctx context.Context, t *testing.T, c client.Client, ns string) {
	t.Helper()
	var list cmapi.CertificateList
	if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
		t.Fatalf("listing Certificates in %s: %v", ns, err)
	}
	pending := list.Items
	for len(pending) > 0 {
		var waiting []cmapi.Certificate
		for i := range pending {
			if !issue(ctx, t, c, &pending[i]) {
				waiting = append(waiting, pending[i])
			}
		}
		if len(waiting) == len(pending) {
			t.Fatalf("no Certificate could be issued, %d wait for a CA Secret", len(waiting))
		}
		pending = waiting
	}
}

// issue signs crt and writes its Secret, or returns false while its CA's Secret
// does not exist yet.
func issue(ctx context.Context, t *testing.T, c client.Client, crt *cmapi.Certificate) bool {
	t.Helper()
	if crt.Spec.IssuerRef.Kind != "Issuer" {
		t.Fatalf("Certificate %s: only namespaced Issuers are followed here, not %q", crt.Name, crt.Spec.IssuerRef.Kind)
	}
	var issuer cmapi.Issuer
	if err := c.Get(ctx, client.ObjectKey{Namespace: crt.Namespace, Name: crt.Spec.IssuerRef.Name}, &issuer); err != nil {
		t.Fatalf("Certificate %s: issuer: %v", crt.Name, err)
	}
	key, err := pki.GeneratePrivateKeyForCertificate(crt)
	if err != nil {
		t.Fatalf("Certificate %s: private key: %v", crt.Name, err)
	}
	tmpl, err := pki.CertificateTemplateFromCertificate(crt)
	if err != nil {
		t.Fatalf("Certificate %s: template: %v", crt.Name, err)
	}
	tmpl.PublicKey = key.Public()

	var certPEM, caPEM []byte
	switch {
	case issuer.Spec.SelfSigned != nil:
		// Self-signed: the certificate is its own CA.
		if certPEM, _, err = pki.SignCertificate(tmpl, tmpl, key.Public(), key); err != nil {
			t.Fatalf("Certificate %s: self-signing: %v", crt.Name, err)
		}
		caPEM = certPEM
	case issuer.Spec.CA != nil:
		caCert, caKey, ok := loadCA(ctx, t, c, crt.Namespace, issuer.Spec.CA.SecretName)
		if !ok {
			return false
		}
		bundle, err := pki.SignCSRTemplate([]*x509.Certificate{caCert}, caKey, tmpl)
		if err != nil {
			t.Fatalf("Certificate %s: signing with CA %s: %v", crt.Name, issuer.Spec.CA.SecretName, err)
		}
		certPEM, caPEM = bundle.ChainPEM, bundle.CAPEM
	default:
		t.Fatalf("Certificate %s: Issuer %s is neither selfSigned nor ca", crt.Name, issuer.Name)
	}
	encoding := cmapi.PKCS1
	if crt.Spec.PrivateKey != nil && crt.Spec.PrivateKey.Encoding != "" {
		encoding = crt.Spec.PrivateKey.Encoding
	}
	keyPEM, err := pki.EncodePrivateKey(key, encoding)
	if err != nil {
		t.Fatalf("Certificate %s: encoding key: %v", crt.Name, err)
	}

	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: crt.Namespace,
			Name:      crt.Spec.SecretName,
			Annotations: map[string]string{
				cmapi.CertificateNameKey:       crt.Name,
				cmapi.IssuerNameAnnotationKey:  issuer.Name,
				cmapi.IssuerKindAnnotationKey:  "Issuer",
				cmapi.IssuerGroupAnnotationKey: cmapi.SchemeGroupVersion.Group,
				cmapi.CommonNameAnnotationKey:  crt.Spec.CommonName,
				cmapi.AltNamesAnnotationKey:    strings.Join(crt.Spec.DNSNames, ","),
			},
		},
		Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{
			corev1.TLSCertKey:       certPEM,
			corev1.TLSPrivateKeyKey: keyPEM,
			cmmeta.TLSCAKey:         caPEM,
		},
	}
	if err := c.Create(ctx, secret); err != nil {
		t.Fatalf("Certificate %s: writing Secret %s: %v", crt.Name, secret.Name, err)
	}
	return true
}

func loadCA(ctx context.Context, t *testing.T, c client.Client, ns, name string) (*x509.Certificate, crypto.Signer, bool) {
	t.Helper()
	var s corev1.Secret
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil, false
		}
		t.Fatalf("reading CA Secret %s: %v", name, err)
	}
	cert, err := pki.DecodeX509CertificateBytes(s.Data[corev1.TLSCertKey])
	if err != nil {
		t.Fatalf("CA Secret %s: %v", name, err)
	}
	key, err := pki.DecodePrivateKeyBytes(s.Data[corev1.TLSPrivateKeyKey])
	if err != nil {
		t.Fatalf("CA Secret %s: %v", name, err)
	}
	return cert, key, true
}
