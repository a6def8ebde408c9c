package bridge

import (
	"os"
	"runtime/debug"
	"strings"
	"testing"
)

// fastPathSDKVersion is the go-sdk version whose unexported behaviour
// fastcall.go and fastlist.go reproduce (the meta and header checks, the
// result byte layout), as last verified by the differential tests
// (TestFastCallMatchesSDK, TestFastListMatchesSDK, TestAppendToolResultMatchesSDK,
// TestSessionRequestsMatchStatefulSDK). Change it only after going through
// the SDK-bump checklist in docs/architecture.md.
const fastPathSDKVersion = "v1.8.0"

const goSDKModule = "github.com/modelcontextprotocol/go-sdk"

// TestFastPathPinnedToSDK fails when the go-sdk in the build is not the one
// the fast paths were verified against.
func TestFastPathPinnedToSDK(t *testing.T) {
	got := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == goSDKModule {
				got = d.Version
				if d.Replace != nil {
					got = d.Replace.Version
				}
			}
		}
	}
	if got == "" { // no module information in the binary: read go.mod
		raw, err := os.ReadFile("../go.mod")
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(raw), "\n") {
			if f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require ")); len(f) >= 2 && f[0] == goSDKModule {
				got = f[1]
			}
		}
	}
	if got == "" {
		t.Fatalf("%s is not in the build", goSDKModule)
	}
	if got != fastPathSDKVersion {
		t.Errorf("the build uses %s %s, but the fast paths were verified against %s: go through the SDK-bump checklist in docs/architecture.md, then set fastPathSDKVersion to %s",
			goSDKModule, got, fastPathSDKVersion, got)
	}
}
