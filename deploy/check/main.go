// Command check validates Rounds' deployment files without a cluster or a
// Docker engine: every document of a rendered Helm chart (read from stdin) is
// decoded strictly into its Kubernetes API type — an unknown field, a wrong
// type or an unknown kind fails — and the compose file is loaded and
// validated against the Compose specification's schema.
//
//	helm template rounds deploy/helm/rounds -f … | go run ./deploy/check k8s [REQUIRED-KIND …]
//	go run ./deploy/check compose deploy/docker/compose.yaml
//	go run ./deploy/check grafana deploy/grafana/rounds.json docs/metrics.md
//
// Beyond the types, the k8s check follows the references between documents
// (selectors, named ports, Secrets, the autoscaler's target) and the rules
// the operator's guide promises (probes, resource requests, non-root). It
// stands in for kubeconform, whose schemas must be downloaded from the
// internet, which CI machines cannot reach.
package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: check k8s [REQUIRED-KIND …] < rendered.yaml | check compose FILE | check grafana DASHBOARD METRICS.md")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "k8s":
		err = checkK8s(os.Stdin, os.Args[2:])
	case "compose":
		if len(os.Args) != 3 {
			err = fmt.Errorf("usage: check compose FILE")
			break
		}
		err = checkCompose(os.Args[2])
	case "grafana":
		if len(os.Args) != 4 {
			err = fmt.Errorf("usage: check grafana DASHBOARD.json METRICS.md")
			break
		}
		err = checkGrafana(os.Args[2], os.Args[3])
	default:
		err = fmt.Errorf("unknown check %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "check:", err)
		os.Exit(1)
	}
}

var kinds = map[string]func() any{
	"apps/v1/Deployment":                     func() any { return &appsv1.Deployment{} },
	"v1/Service":                             func() any { return &corev1.Service{} },
	"v1/Secret":                              func() any { return &corev1.Secret{} },
	"v1/ConfigMap":                           func() any { return &corev1.ConfigMap{} },
	"policy/v1/PodDisruptionBudget":          func() any { return &policyv1.PodDisruptionBudget{} },
	"autoscaling/v2/HorizontalPodAutoscaler": func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"networking.k8s.io/v1/Ingress":           func() any { return &networkingv1.Ingress{} },
	"batch/v1/CronJob":                       func() any { return &batchv1.CronJob{} },
}

// checkK8s validates the rendered documents on r. required lists the kinds
// that must be among them (default: what the chart renders with its
// defaults).
func checkK8s(r io.Reader, required []string) error {
	if len(required) == 0 {
		required = []string{"Deployment", "Service", "Secret", "PodDisruptionBudget", "HorizontalPodAutoscaler"}
	}
	docs, err := splitDocs(r)
	if err != nil {
		return err
	}
	seen := map[string]int{}
	var objs []any
	for i, d := range docs {
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(d, &head); err != nil {
			return fmt.Errorf("document %d: %w", i+1, err)
		}
		key := head.APIVersion + "/" + head.Kind
		mk, ok := kinds[key]
		if !ok {
			return fmt.Errorf("document %d: unknown kind %s", i+1, key)
		}
		if head.Metadata.Name == "" {
			return fmt.Errorf("document %d (%s): no metadata.name", i+1, key)
		}
		obj := mk()
		if err := yaml.UnmarshalStrict(d, obj); err != nil {
			return fmt.Errorf("%s %s: %w", head.Kind, head.Metadata.Name, err)
		}
		objs = append(objs, obj)
		seen[head.Kind]++
	}
	for _, want := range required {
		if seen[want] == 0 {
			return fmt.Errorf("the chart rendered no %s", want)
		}
	}
	if err := crossCheck(objs); err != nil {
		return err
	}
	fmt.Printf("k8s: %d documents valid %v\n", len(docs), seen)
	return nil
}

func splitDocs(r io.Reader) ([][]byte, error) {
	var docs [][]byte
	var cur bytes.Buffer
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	flush := func() {
		if strings.TrimSpace(stripComments(cur.String())) != "" {
			docs = append(docs, append([]byte(nil), cur.Bytes()...))
		}
		cur.Reset()
	}
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "---") {
			flush()
			continue
		}
		cur.WriteString(sc.Text())
		cur.WriteByte('\n')
	}
	flush()
	return docs, sc.Err()
}

func stripComments(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l)
		}
	}
	return b.String()
}

func checkCompose(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	opts, err := cli.NewProjectOptions([]string{abs}, cli.WithWorkingDirectory(filepath.Dir(abs)), cli.WithName("rounds"), cli.WithProfiles([]string{"*"}))
	if err != nil {
		return err
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		return err
	}
	for _, want := range []string{"rounds-a", "rounds-b", "postgres", "nats", "minio", "elasticsearch", "proxy", "backup"} {
		if _, err := p.GetService(want); err != nil {
			return fmt.Errorf("compose: %w", err)
		}
	}
	fmt.Printf("compose: %d services valid\n", len(p.Services))
	return nil
}
