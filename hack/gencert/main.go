// Command gencert writes a throwaway CA and a serving certificate signed by it
// (ca.crt, tls.crt, tls.key) for running bin/webhook by hand. For development only:
// on a cluster, cert-manager issues the certificate (config/certmanager).
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/ambient-code/agentic-operator/certs"
)

func main() {
	dir := flag.String("dir", ".run/certs", "directory to write ca.crt, tls.crt and tls.key into")
	dns := flag.String("dns", "localhost", "comma-separated DNS names the certificate covers")
	ips := flag.String("ip", "127.0.0.1", "comma-separated IP addresses the certificate covers")
	validity := flag.Duration("validity", 24*time.Hour, "how long the CA and certificate are valid")
	flag.Parse()

	var addrs []net.IP
	for _, s := range strings.Split(*ips, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		ip := net.ParseIP(s)
		if ip == nil {
			fmt.Fprintf(os.Stderr, "gencert: %q is not an IP address\n", s)
			os.Exit(2)
		}
		addrs = append(addrs, ip)
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		fmt.Fprintf(os.Stderr, "gencert: %v\n", err)
		os.Exit(1)
	}
	if _, _, err := certs.GenerateDir(*dir, strings.Split(*dns, ","), addrs, *validity); err != nil {
		fmt.Fprintf(os.Stderr, "gencert: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s/ca.crt, tls.crt, tls.key (valid %s)\n", *dir, *validity)
}
