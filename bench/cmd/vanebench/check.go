package main

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The checks of the recorded responses: a misconfigured run must fail
// before it measures, not benchmark error answers.

// checkParameter checks a native GET of the parameter.
func checkParameter(body []byte) error {
	var p struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return fmt.Errorf("not a parameter: %w", err)
	}
	if p.Name != paramName || p.Value != paramValue {
		return fmt.Errorf("got %s = %q, want %s = %q", p.Name, p.Value, paramName, paramValue)
	}
	return nil
}

// checkSSM checks an SSM GetParameter response.
func checkSSM(body []byte) error {
	var r struct {
		Parameter struct{ Name, Value string }
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("not a GetParameter response: %w", err)
	}
	if r.Parameter.Name != paramName || r.Parameter.Value != paramValue {
		return fmt.Errorf("got %s = %q, want %s = %q", r.Parameter.Name, r.Parameter.Value, paramName, paramValue)
	}
	return nil
}

// ofrepEvaluation is the part of an OFREP evaluation the checks read.
type ofrepEvaluation struct {
	Key       string `json:"key"`
	Value     any    `json:"value"`
	Reason    string `json:"reason"`
	ErrorCode string `json:"errorCode"`
}

// check reports an evaluation that failed or is not a boolean.
func (e *ofrepEvaluation) check() error {
	if e.ErrorCode != "" {
		return fmt.Errorf("flag %q: error %s", e.Key, e.ErrorCode)
	}
	if _, ok := e.Value.(bool); !ok || e.Reason == "" {
		return fmt.Errorf("flag %q: value %v, reason %q: want a boolean and a reason", e.Key, e.Value, e.Reason)
	}
	return nil
}

// checkOFREP checks an OFREP single evaluation of flag f000.
func checkOFREP(body []byte) error {
	var e ofrepEvaluation
	if err := json.Unmarshal(body, &e); err != nil {
		return fmt.Errorf("not an OFREP evaluation: %w", err)
	}
	if e.Key != ofrepKey {
		return fmt.Errorf("key %q, want %q", e.Key, ofrepKey)
	}
	return e.check()
}

// checkOFREPBulk checks an OFREP bulk evaluation of the 100 flags.
func checkOFREPBulk(body []byte) error {
	var r struct {
		Flags []*ofrepEvaluation `json:"flags"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("not an OFREP bulk evaluation: %w", err)
	}
	keys := make([]string, len(r.Flags))
	for i, e := range r.Flags {
		if err := e.check(); err != nil {
			return err
		}
		keys[i] = "/" + e.Key
	}
	return checkFlagSet(keys)
}

// checkEvaluateBulk checks a native bulk evaluation of the 100 flags.
func checkEvaluateBulk(body []byte) error {
	var r struct {
		Flags []struct {
			Name      string `json:"name"`
			Value     any    `json:"value"`
			ErrorCode string `json:"error_code"`
		} `json:"flags"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("not a bulk evaluation: %w", err)
	}
	names := make([]string, len(r.Flags))
	for i, f := range r.Flags {
		if f.ErrorCode != "" {
			return fmt.Errorf("flag %s: error %s", f.Name, f.ErrorCode)
		}
		if _, ok := f.Value.(bool); !ok {
			return fmt.Errorf("flag %s: value %v, want a boolean", f.Name, f.Value)
		}
		names[i] = f.Name
	}
	return checkFlagSet(names)
}

// checkFlagSet checks that names are the flagCount distinct flags seeded.
func checkFlagSet(names []string) error {
	if len(names) != flagCount {
		return fmt.Errorf("%d flags, want %d", len(names), flagCount)
	}
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if !strings.HasPrefix(n, flagDir) || seen[n] {
			return fmt.Errorf("unexpected or repeated flag %s", n)
		}
		seen[n] = true
	}
	return nil
}
