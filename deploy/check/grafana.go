package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
)

// checkGrafana checks the dashboard is importable JSON with a data-source
// variable, and that every metric its queries use is in the metrics
// catalogue — so a renamed metric cannot leave a panel silently empty.
func checkGrafana(dashboard, catalogue string) error {
	b, err := os.ReadFile(dashboard)
	if err != nil {
		return err
	}
	var d struct {
		UID        string          `json:"uid"`
		Title      string          `json:"title"`
		Panels     []grafanaPanel  `json:"panels"`
		Templating json.RawMessage `json:"templating"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return fmt.Errorf("grafana: %s: %w", dashboard, err)
	}
	if d.UID == "" || d.Title == "" {
		return fmt.Errorf("grafana: %s needs a uid and a title", dashboard)
	}
	if !strings.Contains(string(d.Templating), `"prometheus"`) {
		return fmt.Errorf("grafana: %s needs a Prometheus data-source variable (hospitals name their data sources differently)", dashboard)
	}
	cat, err := os.ReadFile(catalogue)
	if err != nil {
		return err
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("`([a-z_:][a-z0-9_:]*)`").FindAllStringSubmatch(string(cat), -1) {
		documented[m[1]] = true
	}
	metric := regexp.MustCompile(`\b((?:rounds|go|process)_[a-z0-9_]+)`)
	var missing []string
	queries := 0
	var walk func(ps []grafanaPanel)
	walk = func(ps []grafanaPanel) {
		for _, p := range ps {
			walk(p.Panels)
			for _, t := range p.Targets {
				if t.Expr == "" {
					continue
				}
				queries++
				for _, m := range metric.FindAllString(t.Expr, -1) {
					base := m
					for _, suf := range []string{"_bucket", "_sum", "_count"} {
						if !documented[base] && strings.HasSuffix(base, suf) && documented[strings.TrimSuffix(base, suf)] {
							base = strings.TrimSuffix(base, suf)
						}
					}
					if !documented[base] {
						missing = append(missing, fmt.Sprintf("%s (panel %q)", m, p.Title))
					}
				}
			}
		}
	}
	walk(d.Panels)
	if queries == 0 {
		return fmt.Errorf("grafana: %s has no queries", dashboard)
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("grafana: metrics not in %s: %s", catalogue, strings.Join(missing, ", "))
	}
	fmt.Printf("grafana: %d queries, every metric documented\n", queries)
	return nil
}

type grafanaPanel struct {
	Title   string         `json:"title"`
	Panels  []grafanaPanel `json:"panels"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}
