package errorbody

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"
)

func TestWrite(t *testing.T) {
	w := httptest.NewRecorder()
	Write(w, 403, "forbidden", "a <b> & c", nil)
	if w.Code != 403 || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%d %q", w.Code, w.Header().Get("Content-Type"))
	}
	if !bytes.Contains(w.Body.Bytes(), []byte(`"a <b> & c"`)) || !bytes.Contains(w.Body.Bytes(), []byte(`"details":{}`)) {
		t.Errorf("body %s: want the message unescaped and details {}", w.Body)
	}
	var b Body
	dec := json.NewDecoder(w.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil || b.Error.Code != "forbidden" {
		t.Errorf("decode: %v %+v", err, b)
	}
}
