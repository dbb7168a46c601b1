package testenv

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// programReadyTimeout bounds how long a started program may take to be ready.
const programReadyTimeout = 90 * time.Second

// StartProgram runs the built program bin with args (and env added to the
// test's) until t ends, when it gets SIGTERM and 30 s to exit, and waits until
// its plain-HTTP /readyz on probeAddr answers 200. The program's output is
// logged when t fails or the program exits before it is ready.
func StartProgram(t *testing.T, bin string, env []string, probeAddr string, args ...string) {
	t.Helper()
	name := filepath.Base(bin)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out := &LockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("%s ignored SIGTERM for 30s", name)
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, out.String())
		}
	})
	Eventually(t, programReadyTimeout, name+" ready", func(ctx context.Context) error {
		select {
		case <-exited:
			t.Fatalf("%s exited before it was ready:\n%s", name, out.String())
		default:
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+probeAddr+"/readyz", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("readyz: %s", resp.Status)
		}
		return nil
	})
}
