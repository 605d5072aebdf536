package testcluster

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// portInUseError marks a start that failed because a component lost the
// race for its port; Start retries those.
type portInUseError struct {
	component string
}

func (e *portInUseError) Error() string {
	return e.component + " could not bind its port (address already in use)"
}

// start runs one attempt: etcd, then the apiserver, then the controller
// manager, scheduler and kwok together.
func (c *Cluster) start(ctx context.Context) error {
	began := time.Now()
	ports, err := freePorts(6)
	if err != nil {
		return err
	}
	etcdClient, etcdPeer, apiPort, kcmPort, schedPort, kwokPort := ports[0], ports[1], ports[2], ports[3], ports[4], ports[5]

	saKey, saPub, err := ensureServiceAccountKey(c.Dir)
	if err != nil {
		return err
	}
	token, err := randomToken()
	if err != nil {
		return err
	}
	tokenFile := filepath.Join(c.Dir, "tokens.csv")
	if err := os.WriteFile(tokenFile, []byte(token+",purser-admin,purser-admin,system:masters\n"), 0o600); err != nil {
		return fmt.Errorf("writing apiserver token file: %w", err)
	}
	kwokConfig := filepath.Join(c.Dir, "kwok.yaml")
	if err := os.WriteFile(kwokConfig, []byte(kwokStages), 0o644); err != nil {
		return fmt.Errorf("writing kwok stages: %w", err)
	}
	certDir := filepath.Join(c.Dir, "certs")
	if err := os.MkdirAll(certDir, 0o755); err != nil {
		return fmt.Errorf("apiserver certificate directory: %w", err)
	}

	probe := &http.Client{
		Timeout: 2 * time.Second,
		// The components serve health checks over TLS with certificates
		// they generate themselves at start-up; these probes only ask
		// loopback ports this process just handed out whether anyone
		// answers. API clients verify the apiserver's certificate.
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // see above
	}
	defer probe.CloseIdleConnections()

	etcdURL := "http://127.0.0.1:" + itoa(etcdClient)
	peerURL := "http://127.0.0.1:" + itoa(etcdPeer)
	etcd, err := c.spawn(etcdName, nil,
		"--name=purser",
		"--data-dir="+filepath.Join(c.Dir, "etcd"),
		"--listen-client-urls="+etcdURL,
		"--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL,
		"--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=purser="+peerURL,
		// Nothing here needs to survive a power cut, and fsync dominates
		// etcd's latency on a busy disk.
		"--unsafe-no-fsync",
	)
	if err != nil {
		return err
	}
	if err := c.waitHealthy(ctx, etcd, probe, etcdURL+"/health", "", `"health":"true"`, began); err != nil {
		return err
	}

	apiURL := "https://127.0.0.1:" + itoa(apiPort)
	apiserver, err := c.spawn(apiserverName, nil,
		"--etcd-servers="+etcdURL,
		"--cert-dir="+certDir,
		"--secure-port="+itoa(apiPort),
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+saPub,
		"--service-account-signing-key-file="+saKey,
		"--authorization-mode=RBAC",
		"--token-auth-file="+tokenFile,
		"--service-cluster-ip-range=10.96.0.0/16",
		"--allow-privileged=true",
	)
	if err != nil {
		return err
	}
	if err := c.waitHealthy(ctx, apiserver, probe, apiURL+"/readyz", token, "ok", began); err != nil {
		return err
	}
	caFile := filepath.Join(certDir, "apiserver.crt")
	if err := c.writeKubeconfig(apiURL, caFile, token); err != nil {
		return err
	}

	kubeconfigFlags := []string{
		// No --authentication-kubeconfig: with it both keep logging errors
		// about a ConfigMap that an apiserver without client-certificate
		// authentication never writes, and their health checks need no
		// authentication.
		"--kubeconfig=" + c.Kubeconfig,
		"--leader-elect=false",
		"--bind-address=127.0.0.1",
		"--kube-api-qps=400",
		"--kube-api-burst=800",
	}
	kcm, err := c.spawn(kcmName, nil, append(kubeconfigFlags,
		"--secure-port="+itoa(kcmPort),
		"--service-account-private-key-file="+saKey,
		// Without it every kube-root-ca.crt ConfigMap is empty.
		"--root-ca-file="+caFile,
		// As in real clusters: each controller acts as its own
		// ServiceAccount, so the bootstrap RBAC bindings name accounts
		// that exist.
		"--use-service-account-credentials=true",
		"--controllers=*,-serviceaccount-token",
		// kwok renews node leases every 10 s; the margin keeps nodes
		// Ready while a large demo keeps both cores busy.
		"--node-monitor-grace-period=60s",
	)...)
	if err != nil {
		return err
	}
	scheduler, err := c.spawn(schedulerName, nil, append(kubeconfigFlags,
		"--secure-port="+itoa(schedPort),
	)...)
	if err != nil {
		return err
	}
	kwok, err := c.spawn(kwokName,
		// Keep kwok away from a ~/.kwok/kwok.yaml, which it would load
		// before --config.
		[]string{"KWOK_WORKDIR=" + filepath.Join(c.Dir, "kwok-home")},
		"--kubeconfig="+c.Kubeconfig,
		"--config="+kwokConfig,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
		// Without node leases the node-lifecycle controller marks every
		// node NotReady after the grace period.
		"--node-lease-duration-seconds=40",
		// Pod IPs must not overlap the Service range.
		"--cidr=10.244.0.1/16",
		// Only for the health check below.
		"--server-address=127.0.0.1:"+itoa(kwokPort),
	)
	if err != nil {
		return err
	}
	if err := c.waitHealthy(ctx, kcm, probe, "https://127.0.0.1:"+itoa(kcmPort)+"/healthz", "", "ok", began); err != nil {
		return err
	}
	if err := c.waitHealthy(ctx, scheduler, probe, "https://127.0.0.1:"+itoa(schedPort)+"/readyz", "", "ok", began); err != nil {
		return err
	}
	if err := c.waitHealthy(ctx, kwok, probe, "http://127.0.0.1:"+itoa(kwokPort)+"/healthz", "", "ok", began); err != nil {
		return err
	}
	if err := c.waitDefaultServiceAccount(ctx, kcm); err != nil {
		return err
	}
	logf(c.logs, "control plane ready in %.1fs; export KUBECONFIG=%s", time.Since(began).Seconds(), c.Kubeconfig)
	return nil
}

// waitHealthy polls a component's health endpoint until its body contains
// want. It gives up early when the process exits, with the reason from its
// log.
func (c *Cluster) waitHealthy(ctx context.Context, p *process, client *http.Client, url, token, want string, began time.Time) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, readyTimeout, true, func(ctx context.Context) (bool, error) {
		select {
		case <-p.done:
			return false, fmt.Errorf("exited: %v", p.waitErr)
		default:
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			last = err
			return false, nil
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			last = fmt.Errorf("%s: %s: %s", url, resp.Status, firstLine(string(body)))
			return false, nil
		}
		return true, nil
	})
	if err == nil {
		logf(c.logs, "%s healthy at %.1fs", p.name, time.Since(began).Seconds())
		return nil
	}
	return c.componentError(p, "not healthy", err, last)
}

// waitDefaultServiceAccount waits for the ServiceAccount controller: the
// apiserver rejects pods in a namespace whose default ServiceAccount does
// not exist yet.
func (c *Cluster) waitDefaultServiceAccount(ctx context.Context, kcm *process) error {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return fmt.Errorf("client for %s: %w", c.Kubeconfig, err)
	}
	var last error
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, readyTimeout, true, func(ctx context.Context) (bool, error) {
		select {
		case <-kcm.done:
			return false, fmt.Errorf("exited: %v", kcm.waitErr)
		default:
		}
		// Any error, not only NotFound, is worth another try: the
		// apiserver may still be settling its caches.
		_, last = cs.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{})
		return last == nil, nil
	})
	if err != nil {
		return c.componentError(kcm, "did not create the default ServiceAccount", err, last)
	}
	return nil
}

// componentError names the component, says why waiting stopped and quotes
// the end of its log, where the real cause usually is.
func (c *Cluster) componentError(p *process, what string, err, last error) error {
	logTail := tail(p.log, 20)
	if strings.Contains(logTail, "address already in use") {
		return fmt.Errorf("%w: %s", &portInUseError{component: p.name}, p.log)
	}
	if last != nil && !errors.Is(err, context.Canceled) {
		err = fmt.Errorf("%w (last: %v)", err, last)
	}
	return fmt.Errorf("%s %s: %w\nlast lines of %s:\n%s", p.name, what, err, p.log, logTail)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// writeKubeconfig writes Dir/kubeconfig and sets Config from it. The
// apiserver's self-signed certificate, which it writes before it serves,
// is the certificate authority.
func (c *Cluster) writeKubeconfig(server, caFile, token string) error {
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return fmt.Errorf("apiserver certificate: %w", err)
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[ContextName] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: ca}
	cfg.AuthInfos[ContextName] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts[ContextName] = &clientcmdapi.Context{Cluster: ContextName, AuthInfo: ContextName}
	cfg.CurrentContext = ContextName
	if err := clientcmd.WriteToFile(*cfg, c.Kubeconfig); err != nil {
		return fmt.Errorf("writing kubeconfig %s: %w", c.Kubeconfig, err)
	}
	rc, err := clientcmd.NewDefaultClientConfig(*cfg, nil).ClientConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig %s: %w", c.Kubeconfig, err)
	}
	c.Config = rc
	return nil
}

// ensureServiceAccountKey returns the service-account signing key and its
// public half, generating them unless an earlier start in Dir left them:
// tokens issued before a restart then stay valid.
func ensureServiceAccountKey(dir string) (keyFile, pubFile string, err error) {
	keyFile, pubFile = filepath.Join(dir, "sa.key"), filepath.Join(dir, "sa.pub")
	_, keyErr := os.Stat(keyFile)
	_, pubErr := os.Stat(pubFile)
	if keyErr == nil && pubErr == nil {
		return keyFile, pubFile, nil
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", "", fmt.Errorf("service-account key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", "", fmt.Errorf("service-account key: %w", err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		return "", "", fmt.Errorf("writing %s: %w", keyFile, err)
	}
	if err := os.WriteFile(pubFile, pubPEM, 0o644); err != nil {
		return "", "", fmt.Errorf("writing %s: %w", pubFile, err)
	}
	return keyFile, pubFile, nil
}
