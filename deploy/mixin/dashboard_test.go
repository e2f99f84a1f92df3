package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-jsonnet"
)

// withJobSelector evaluates lib/dashboard.libsonnet's withJobSelector on a
// dashboard given as jsonnet.
func withJobSelector(dashboard, from, to string) (string, error) {
	vm := jsonnet.MakeVM()
	vm.Importer(&jsonnet.FileImporter{})
	vm.ExtCode("dashboard", dashboard)
	vm.ExtVar("from", from)
	vm.ExtVar("to", to)
	return vm.EvaluateAnonymousSnippet("test.jsonnet",
		`(import 'lib/dashboard.libsonnet').withJobSelector(std.extVar('dashboard'), std.extVar('from'), std.extVar('to'))`)
}

// The job variable gets the selector whatever form Grafana gave its
// query, and nothing else changes.
func TestWithJobSelector(t *testing.T) {
	for _, tc := range []struct {
		name, dashboard, want string
	}{
		{"string query with definition", `{
			templating: { list: [
				{ name: 'datasource', type: 'datasource', query: 'prometheus' },
				{ name: 'job', query: 'label_values(m{job="a"}, job)', definition: 'label_values(m{job="a"}, job)' },
				{ name: 'instance', query: 'label_values(m{job=~"$job"}, instance)' },
			] },
			panels: [],
		}`, `{
			"templating": {"list": [
				{"name": "datasource", "type": "datasource", "query": "prometheus"},
				{"name": "job", "query": "label_values(m{job=\"b\"}, job)", "definition": "label_values(m{job=\"b\"}, job)"},
				{"name": "instance", "query": "label_values(m{job=~\"$job\"}, instance)"}
			]},
			"panels": []
		}`},
		{"object query", `{
			templating: { list: [
				{ name: 'job', query: { query: 'label_values(m{job="a"}, job)', refId: 'A' } },
			] },
		}`, `{
			"templating": {"list": [
				{"name": "job", "query": {"query": "label_values(m{job=\"b\"}, job)", "refId": "A"}}
			]}
		}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := withJobSelector(tc.dashboard, `job="a"`, `job="b"`)
			if err != nil {
				t.Fatal(err)
			}
			var got, want any
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tc.want), &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// A dashboard the patch cannot apply to is an error, not a dashboard that
// silently shows the default job.
func TestWithJobSelectorRefusesWhatItCannotPatch(t *testing.T) {
	for name, tc := range map[string]struct{ dashboard, wantErr string }{
		"no job variable": {
			`{ templating: { list: [{ name: 'instance', query: 'label_values(m, instance)' }] } }`,
			"no templating variable named job",
		},
		"query without the selector": {
			`{ templating: { list: [{ name: 'job', query: 'label_values(m, job)' }] } }`,
			`does not select {job="a"}`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := withJobSelector(tc.dashboard, `job="a"`, `job="b"`)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v (output %s), want an error with %q", err, out, tc.wantErr)
			}
		})
	}
}
