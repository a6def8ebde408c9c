package bridge

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// refToolCall is the map-based decoding the in-place scan replaced: the
// reference parseMessage and toolCall are held to.
func refToolCall(body []byte) (method string, call toolCall, ok bool) {
	msg := parseMessageMap(body)
	if b := bytes.TrimLeft(body, " \t\r\n"); len(b) == 0 || b[0] != '{' || tooDeep(b) {
		msg = rpcMessage{method: jsonrpcMethod(body)}
	}
	id, ok := msg.strict()
	if !ok || msg.method != "tools/call" {
		return msg.method, call, false
	}
	call.id = id
	var params map[string]json.RawMessage
	if len(msg.params) == 0 || msg.params[0] != '{' || json.Unmarshal(msg.params, &params) != nil {
		return msg.method, call, false
	}
	for k, v := range params {
		switch k {
		case "name":
			if len(v) == 0 || v[0] != '"' || json.Unmarshal(v, &call.name) != nil {
				return msg.method, call, false
			}
		case "arguments":
			call.args = v
		case "_meta":
			call.meta = v // judged later by requestMetaOK
		default:
			return msg.method, call, false
		}
	}
	return msg.method, call, call.name != ""
}

var parseMessageCases = []string{
	`{"jsonrpc":"2.0","id":17,"method":"tools/call","params":{"name":"get_r","arguments":{"kind":"obj","q":"bench"}}}`,
	` { "jsonrpc" : "2.0" , "id" : "a-1" , "method" : "tools/call" , "params" : { "arguments" : [1, {"x":"}"}] , "name" : "t" } } `,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","arguments":{},"_meta":{"progressToken":1}}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"n\u0061me":"t","arguments":{}}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t\u00e9","arguments":null}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","name":"b"}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":5,"name":"b"}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"b","name":5}}`,
	`{"jsonrpc":"2.0","id":1,"Method":"tools/list","method":"tools/call","params":{"name":"t"}}`,
	`{"jsonrpc":"2.0","id":1,"METHOD":"tools/call","params":{"name":"t"}}`,
	`{"jsonrpc":"2.0","id":1,"m\u0065thod":"tools/call","params":{"name":"t"}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","method":"tools/list"}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t"},"extra":true}`,
	`{"jsonrpc":"1.0","id":1,"method":"tools/call","params":{"name":"t"}}`,
	`{"jsonrpc":"2.0","id":1.5,"method":"tools/call","params":{"name":"t"}}`,
	`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
	`{"jsonrpc":"2.0","id":1,"method":7,"params":{"name":"t"}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":[]}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":5}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":""}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools\/call","params":{"name":"t"}}`,
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"t\xff\"}}",
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t"}} x`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t"}`,
	`[{"jsonrpc":"2.0","id":1,"method":"tools/call"}]`,
	`{}`, ``, `null`, `{"a":{"b":[true,false,null,-1e5]},"method":"x"}`,
}

// TestParseMessageMatchesMap holds the in-place scan to the map decoding.
func TestParseMessageMatchesMap(t *testing.T) {
	for _, body := range parseMessageCases {
		checkParseMessage(t, []byte(body))
	}
}

func FuzzParseMessage(f *testing.F) {
	for _, body := range parseMessageCases {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkParseMessage(t, body) })
}

func checkParseMessage(t *testing.T, body []byte) {
	t.Helper()
	msg := parseMessage(body)
	wantMethod, wantCall, wantOK := refToolCall(body)
	if msg.method != wantMethod {
		t.Fatalf("%s: method %q, want %q", body, msg.method, wantMethod)
	}
	call, ok := msg.toolCall()
	if ok != wantOK || ok && !reflect.DeepEqual(call, wantCall) {
		t.Fatalf("%s: toolCall %+v %v, want %+v %v", body, call, ok, wantCall, wantOK)
	}
	if m := parseMessageMap(body); msg.object && m.object {
		_, ok1 := msg.strict()
		_, ok2 := m.strict()
		if ok1 != ok2 || !bytes.Equal(msg.params, m.params) && ok1 {
			t.Fatalf("%s: strict %v params %s, want %v %s", body, ok1, msg.params, ok2, m.params)
		}
	}
}
