package testbed

import (
	"fmt"
	"net/http"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Metrics is one scrape of a guest's /metrics.
type Metrics map[string]*dto.MetricFamily

// Scrape fetches and parses http://addr/metrics.
func Scrape(addr string) (Metrics, error) {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close() //nolint:errcheck // fully read or abandoned; nothing to report
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(resp.Body)
}

// Value returns the first sample of name whose labels include want, as a
// counter, gauge or histogram count; -1 if there is none.
func (m Metrics) Value(name string, want map[string]string) float64 {
	for _, s := range m[name].GetMetric() {
		labels := map[string]string{}
		for _, lp := range s.GetLabel() {
			labels[lp.GetName()] = lp.GetValue()
		}
		match := true
		for k, v := range want {
			match = match && labels[k] == v
		}
		if !match {
			continue
		}
		switch {
		case s.Counter != nil:
			return s.GetCounter().GetValue()
		case s.Gauge != nil:
			return s.GetGauge().GetValue()
		case s.Histogram != nil:
			return float64(s.GetHistogram().GetSampleCount())
		}
	}
	return -1
}
