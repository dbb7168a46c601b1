package profile

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"k8s.io/client-go/rest"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// Sizes are the raw JSON sizes of objects as the API server returns them (compact,
// managedFields included).
type Sizes struct {
	Count, Total, Max int
}

// Mean is the average object size in bytes.
func (s Sizes) Mean() float64 {
	if s.Count == 0 {
		return 0
	}
	return float64(s.Total) / float64(s.Count)
}

func (s Sizes) String() string {
	return fmt.Sprintf("%d objects, %.1f MB raw JSON (mean %.0f B, max %d B)", s.Count, float64(s.Total)/1e6, s.Mean(), s.Max)
}

// SessionSizes pages through every AgenticSession as JSON and adds up the bytes of
// each item as the API server wrote it.
func SessionSizes(ctx context.Context, cfg *rest.Config) (Sizes, error) {
	return ListSizes(ctx, cfg, "/apis/"+v1alpha1.GroupVersion.String()+"/agenticsessions")
}

// ListSizes does the same for any list path.
func ListSizes(ctx context.Context, cfg *rest.Config, path string) (Sizes, error) {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return Sizes{}, fmt.Errorf("building HTTP client: %w", err)
	}
	var sizes Sizes
	cont := ""
	for {
		q := url.Values{"limit": {"500"}}
		if cont != "" {
			q.Set("continue", cont)
		}
		var page struct {
			Metadata struct {
				Continue string `json:"continue"`
			} `json:"metadata"`
			Items []json.RawMessage `json:"items"`
		}
		if err := GetJSON(ctx, hc, strings.TrimSuffix(cfg.Host, "/")+path+"?"+q.Encode(), &page); err != nil {
			return sizes, err
		}
		for _, it := range page.Items {
			sizes.Count++
			sizes.Total += len(it)
			sizes.Max = max(sizes.Max, len(it))
		}
		if cont = page.Metadata.Continue; cont == "" {
			return sizes, nil
		}
	}
}

// GetJSON fetches u with Accept: application/json and decodes the body into v (or,
// when v is a *[]byte, stores the raw body).
func GetJSON(ctx context.Context, hc *http.Client, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("GET %s: reading body: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %.300s", u, resp.Status, body)
	}
	if raw, ok := v.(*[]byte); ok {
		*raw = body
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: decoding: %w", u, err)
	}
	return nil
}
