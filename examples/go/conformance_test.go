package pglift_test

// The conformance scenario (tests/conformance/README.md) through this binding: TestConformance runs
// the scenario's steps with the binding's methods and writes one line per step, the result seen
// through the step's "expect" (the matchers below are those of tests/conformance/compare.py). It runs
// only when tests/conformance/conformance.sh sets LIBPGLIFT_CONFORMANCE_SCENARIO, _VARS and _OUTPUT.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"example.com/pglift"
)

var (
	placeholder = regexp.MustCompile(`\$\{([A-Z0-9_]+)\}`)
	wholeOne    = regexp.MustCompile(`^\$\{([A-Z0-9_]+)\}$`)
)

// substitute replaces the placeholders: a whole "${NAME}" by the typed value, others by its text.
func substitute(t *testing.T, v any, vars map[string]any) any {
	switch x := v.(type) {
	case string:
		if m := wholeOne.FindStringSubmatch(x); m != nil {
			return variable(t, vars, m[1])
		}
		return placeholder.ReplaceAllStringFunc(x, func(s string) string {
			switch value := variable(t, vars, s[2:len(s)-1]).(type) {
			case string:
				return value
			default:
				doc, _ := json.Marshal(value)
				return string(doc)
			}
		})
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			out[i] = substitute(t, item, vars)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, item := range x {
			out[k] = substitute(t, item, vars)
		}
		return out
	}
	return v
}

func variable(t *testing.T, vars map[string]any, name string) any {
	v, ok := vars[name]
	if !ok {
		t.Fatalf("no value for the placeholder ${%s}", name)
	}
	return v
}

// equal is JSON equality (numbers as float64, objects without order).
func equal(a, b any) bool {
	da, _ := json.Marshal(a)
	db, _ := json.Marshal(b)
	var ca, cb any
	_ = json.Unmarshal(da, &ca)
	_ = json.Unmarshal(db, &cb)
	ja, _ := json.Marshal(ca) // maps marshal with sorted keys: a canonical text
	jb, _ := json.Marshal(cb)
	return bytes.Equal(ja, jb)
}

// normalise is actual seen through pattern: the pattern where it matches, the actual value elsewhere.
func normalise(t *testing.T, actual, pattern any, vars map[string]any) any {
	switch p := pattern.(type) {
	case string:
		ok := false
		switch {
		case p == "<any>":
			ok = true
		case p == "<int>":
			n, isNum := actual.(float64)
			ok = isNum && n == float64(int64(n))
		case p == "<string>":
			_, ok = actual.(string)
		case p == "<bool>":
			_, ok = actual.(bool)
		case strings.Contains(p, "${"):
			ok = equal(actual, substitute(t, p, vars))
		}
		if ok {
			return pattern
		}
		return actual
	case map[string]any:
		if choices, one := p["<one_of>"].([]any); one && len(p) == 1 {
			for _, c := range choices {
				if equal(actual, c) {
					return pattern
				}
			}
			return actual
		}
		if items, one := p["<unordered>"].([]any); one && len(p) == 1 {
			list, isList := actual.([]any)
			if !isList || len(list) != len(items) {
				return actual
			}
			used := make([]bool, len(list))
			for _, item := range items {
				found := false
				for i, a := range list {
					if !used[i] && equal(normalise(t, a, item, vars), item) {
						used[i], found = true, true
						break
					}
				}
				if !found {
					return actual
				}
			}
			return pattern
		}
		object, isObject := actual.(map[string]any)
		if !isObject {
			return actual
		}
		out := map[string]any{}
		for k, sub := range p {
			value, present := object[k]
			switch {
			case sub == "<absent>" && present:
				out[k] = value
			case sub == "<absent>":
				out[k] = sub
			case present:
				out[k] = normalise(t, value, sub, vars)
			default:
				out[k] = "<missing>"
			}
		}
		return out
	case []any:
		list, isList := actual.([]any)
		if !isList || len(list) != len(p) {
			return actual
		}
		out := make([]any, len(p))
		for i := range p {
			out[i] = normalise(t, list[i], p[i], vars)
		}
		return out
	}
	return actual
}

func readJSON(t *testing.T, path string, into any) {
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(doc, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// conformanceStep runs one step with the binding's typed methods.
func conformanceStep(cctx context.Context, ctx *pglift.Context, step map[string]any) (any, error) {
	instance, _ := step["instance"].(string)
	switch op := step["op"]; op {
	case "create":
		spec, _ := json.Marshal(step["spec"])
		return ctx.CreateJSON(cctx, spec)
	case "get":
		return ctx.Get(cctx, instance)
	case "status":
		return ctx.Status(cctx, instance)
	case "list":
		return ctx.List(cctx, "")
	case "configure":
		changes, _ := step["changes"].(map[string]any)
		return ctx.Configure(cctx, instance, changes, pglift.WriteOptions{})
	case "start":
		return nil, ctx.Start(cctx, instance)
	case "stop":
		return nil, ctx.Stop(cctx, instance, pglift.StopFast)
	case "drop":
		removeCluster, _ := step["remove_cluster"].(bool)
		return nil, ctx.DropWith(cctx, instance, pglift.DropOptions{RemoveCluster: removeCluster})
	case "switchover":
		candidate, _ := step["candidate"].(string)
		return ctx.Switchover(cctx, instance, pglift.SwitchoverOptions{Candidate: candidate})
	case "pause":
		return nil, ctx.Pause(cctx, instance)
	case "resume":
		return nil, ctx.Resume(cctx, instance)
	case "patroni_log_file":
		return ctx.PatroniLogFile(cctx, instance)
	default:
		return nil, fmt.Errorf("unknown op %v", op)
	}
}

func TestConformance(t *testing.T) {
	scenarioPath := os.Getenv("LIBPGLIFT_CONFORMANCE_SCENARIO")
	if scenarioPath == "" {
		t.Skip("run by tests/conformance/conformance.sh (LIBPGLIFT_CONFORMANCE_SCENARIO, _VARS, _OUTPUT)")
	}
	var scenario struct {
		Settings         any              `json:"settings"`
		Steps            []map[string]any `json:"steps"`
		MatcherVariables map[string]any   `json:"matcher_variables"`
		MatcherCases     []struct {
			Actual  any `json:"actual"`
			Pattern any `json:"pattern"`
		} `json:"matcher_cases"`
	}
	var vars map[string]any
	readJSON(t, scenarioPath, &scenario)
	readJSON(t, os.Getenv("LIBPGLIFT_CONFORMANCE_VARS"), &vars)
	out, err := os.Create(os.Getenv("LIBPGLIFT_CONFORMANCE_OUTPUT"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()

	// First line: the matchers applied to the scenario's cases (compare.py checks them).
	cases := []any{}
	for _, c := range scenario.MatcherCases {
		cases = append(cases, normalise(t, c.Actual, c.Pattern, scenario.MatcherVariables))
	}
	line, _ := json.Marshal(map[string]any{"step": "matchers", "result": cases})
	if _, err := out.Write(append(line, '\n')); err != nil {
		t.Fatal(err)
	}

	settings, _ := json.Marshal(substitute(t, scenario.Settings, vars))
	ctx, err := pglift.NewContext(pglift.Options{SettingsJSON: settings})
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	cctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	for _, step := range scenario.Steps {
		args := substitute(t, step, vars).(map[string]any)
		value, err := conformanceStep(cctx, ctx, args)
		var result any
		var perr *pglift.Error
		switch {
		case errors.As(err, &perr):
			t.Logf("step %v: %s: %s", step["id"], perr.Code, perr.Message)
			failure := map[string]any{"error": perr.Code.String()}
			if perr.Field != "" {
				failure["field"] = perr.Field
			}
			result = failure
		case err != nil:
			t.Fatalf("step %v: %v", step["id"], err)
		default:
			doc, _ := json.Marshal(value) // the typed result, as JSON again
			if err := json.Unmarshal(doc, &result); err != nil {
				t.Fatalf("step %v: %v", step["id"], err)
			}
		}
		line, _ := json.Marshal(map[string]any{"step": step["id"], "result": normalise(t, result, step["expect"], vars)})
		if _, err := out.Write(append(line, '\n')); err != nil {
			t.Fatal(err)
		}
	}
}
