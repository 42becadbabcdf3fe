// Command kube-apiserver-test runs a real Kubernetes API server (k8s.io/kubernetes'
// own cmd/kube-apiserver code) over an embedded etcd, both on loopback only, for krmfn's
// cluster test tier. It writes DIR/kubeconfig, prints "kubeconfig: PATH" and then "ready"
// on stdout once /readyz answers, and shuts both down on SIGTERM or SIGINT.
//
// Usage: kube-apiserver-test -dir DIR
package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func die(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "kube-apiserver-test: "+format+"\n", args...)
	os.Exit(1)
}

// freePort asks the kernel for an unused loopback port.
func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		die("no free loopback port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func writeFile(path string, data []byte, mode os.FileMode) {
	if err := os.WriteFile(path, data, mode); err != nil {
		die("write %s: %v", path, err)
	}
}

func main() {
	dir := flag.String("dir", "", "working directory (etcd data, certificates, kubeconfig)")
	flag.Parse()
	if *dir == "" {
		die("-dir is required")
	}
	for _, sub := range []string{"etcd", "certs"} {
		if err := os.MkdirAll(filepath.Join(*dir, sub), 0o700); err != nil {
			die("mkdir: %v", err)
		}
	}

	// etcd, embedded, loopback only.
	ecfg := embed.NewConfig()
	ecfg.Dir = filepath.Join(*dir, "etcd")
	ecfg.LogLevel = "error"
	clientURL := mustURL(fmt.Sprintf("http://127.0.0.1:%d", freePort()))
	peerURL := mustURL(fmt.Sprintf("http://127.0.0.1:%d", freePort()))
	ecfg.ListenClientUrls, ecfg.AdvertiseClientUrls = urls(clientURL), urls(clientURL)
	ecfg.ListenPeerUrls, ecfg.AdvertisePeerUrls = urls(peerURL), urls(peerURL)
	ecfg.InitialCluster = ecfg.Name + "=" + peerURL.String()
	etcd, err := embed.StartEtcd(ecfg)
	if err != nil {
		die("start etcd: %v", err)
	}
	defer etcd.Close()
	select {
	case <-etcd.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		die("etcd not ready after 60s")
	}

	// Credentials: one static admin token, one service-account signing key.
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		die("random: %v", err)
	}
	token := hex.EncodeToString(tok)
	writeFile(filepath.Join(*dir, "tokens.csv"), []byte(token+",admin,admin,system:masters\n"), 0o600)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		die("rsa key: %v", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		die("public key: %v", err)
	}
	writeFile(filepath.Join(*dir, "sa.key"), pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600)
	writeFile(filepath.Join(*dir, "sa.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600)

	port := freePort()
	server := fmt.Sprintf("https://127.0.0.1:%d", port)
	kubeconfig := filepath.Join(*dir, "kubeconfig")
	writeFile(kubeconfig, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {server: %q, insecure-skip-tls-verify: true}
users:
- name: admin
  user: {token: %q}
contexts:
- name: test
  context: {cluster: test, user: admin, namespace: default}
current-context: test
`, server, token)), 0o600)

	cmd := app.NewAPIServerCommand()
	cmd.SetArgs([]string{
		"--etcd-servers=" + clientURL.String(),
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--endpoint-reconciler-type=none", // loopback only: no kubernetes Service endpoints
		fmt.Sprintf("--secure-port=%d", port),
		"--cert-dir=" + filepath.Join(*dir, "certs"),
		"--token-auth-file=" + filepath.Join(*dir, "tokens.csv"),
		"--authorization-mode=AlwaysAllow",
		"--anonymous-auth=false",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + filepath.Join(*dir, "sa.pub"),
		"--service-account-signing-key-file=" + filepath.Join(*dir, "sa.key"),
		"--service-cluster-ip-range=10.0.0.0/24",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
		"--v=0",
	})

	go announceReady(server, token, kubeconfig)
	// The command installs its own SIGTERM/SIGINT handler and returns after a graceful stop.
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		etcd.Close()
		die("kube-apiserver: %v", err)
	}
}

// announceReady prints the ready line once /readyz says ok (within 120 s, else exits 1).
func announceReady(server, token, kubeconfig string) {
	client := &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
	}
	deadline := time.Now().Add(120 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest("GET", server+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				fmt.Printf("kubeconfig: %s\nready\n", kubeconfig)
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	die("API server not ready after 120s")
}
