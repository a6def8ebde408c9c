package bridge

import (
	"bytes"
	"encoding/json"
	"sync"
	"testing"

	"github.com/portico-mcp/portico/bridge/openapi"
	"golang.org/x/tools/txtar"
)

// TestConvertConcurrent converts the same documents from several goroutines;
// run with -race. Results must match a sequential run byte for byte.
func TestConvertConcurrent(t *testing.T) {
	var specs [][]byte
	for _, f := range []string{"testdata/fastapi_310.txtar", "testdata/swagger2.txtar", "testdata/routing.txtar"} {
		ar, err := txtar.ParseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range ar.Files {
			if file.Name == "spec.json" || file.Name == "spec.yaml" {
				specs = append(specs, file.Data)
			}
		}
	}
	want := make([][]byte, len(specs))
	for i, s := range specs {
		c, err := Convert(s, openapi.Options{}, "")
		if err != nil {
			t.Fatal(err)
		}
		want[i], _ = json.Marshal(c)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		for i, s := range specs {
			wg.Go(func() {
				c, err := Convert(s, openapi.Options{}, "")
				if err != nil {
					t.Error(err)
					return
				}
				got, _ := json.Marshal(c)
				if !bytes.Equal(got, want[i]) {
					t.Errorf("document %d: concurrent conversion differs from sequential", i)
				}
			})
		}
	}
	wg.Wait()
}
