package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/vanehq/vane"
)

// maxResponseBytes bounds what the client reads of one response: a full
// page of the largest parameters is well under it.
const maxResponseBytes = 64 << 20

// client calls the native REST API of one Vane server.
type client struct {
	base  string // scheme://host[/prefix], without a trailing slash
	http  *http.Client
	token string // the access key sent as a bearer token; "" for none
}

// authorize adds the client's credential to a request.
func (cl *client) authorize(req *http.Request) {
	if cl.token != "" {
		req.Header.Set("Authorization", "Bearer "+cl.token)
	}
}

// client returns a client for the server the flags, the environment or the
// default name, after checking the output format.
func (c *cli) client(cf *clientFlags) (*client, error) {
	if *cf.output != "table" && *cf.output != "json" {
		return nil, usageError{fmt.Errorf("output format %q: use table or json", *cf.output)}
	}
	server := cf.server
	if server == "" {
		server = c.getenv("VANE_SERVER")
	}
	if server == "" {
		server = "http://" + DefaultAddr
	}
	base, err := serverURL(server)
	if err != nil {
		return nil, usageError{err}
	}
	return &client{base: base, http: c.http, token: c.token()}, nil
}

// token returns the access key the CLI sends: $VANE_TOKEN, else the admin
// key a server on this machine saved in its data directory ($VANE_DATA,
// else ./vane-data), else none.
func (c *cli) token() string {
	if t := strings.TrimSpace(c.getenv("VANE_TOKEN")); t != "" {
		return t
	}
	dir := c.getenv("VANE_DATA")
	if dir == "" {
		dir = DefaultDataDir
	}
	b, err := os.ReadFile(filepath.Join(dir, AdminKeyFile))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// serverURL checks a server address and returns it as a base URL. A bare
// host:port means http.
func serverURL(s string) (string, error) {
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("server %q is not an http:// or https:// URL such as http://%s", s, DefaultAddr)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// noRedirects makes the client report redirects instead of following them:
// the server never redirects, and following one would turn a PUT or DELETE
// into a GET.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// namePath returns the escaped URL path of a parameter name under an API
// root such as "/v1/parameters": "/a/b" and "a/b" are root + "/a/b" with
// each segment escaped. The API takes the name to be "/" + the rest of the
// path, so a name with a '/' that does not begin with '/' (which the name
// rules reject) cannot be sent; it is rejected here with the rule's message.
func namePath(root, name string) (string, error) {
	if name == "" {
		return "", usageError{errors.New("the parameter name is empty")}
	}
	if name[0] != '/' && strings.Contains(name, "/") {
		if _, err := vane.ValidateName(name); err != nil {
			return "", &apiError{Code: vane.ErrorCode(err), Detail: vane.ErrorDetail(err), Message: vane.ErrorMessage(err)}
		}
	}
	segs := strings.Split(strings.TrimPrefix(name, "/"), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return root + "/" + strings.Join(segs, "/"), nil
}

// apiError is an error response of the API, or a response that is not
// what the API returns.
type apiError struct {
	Status  int    // HTTP status; 0 for an error found before sending
	Code    string // vane error code, such as not_found
	Detail  string // SSM-style name, such as ParameterNotFound
	Message string
}

// Error returns the message with the code and detail after it.
func (e *apiError) Error() string {
	var tags []string
	for _, s := range []string{e.Code, e.Detail} {
		if s != "" {
			tags = append(tags, s)
		}
	}
	if len(tags) == 0 {
		return e.Message
	}
	return e.Message + " (" + strings.Join(tags, ", ") + ")"
}

// do sends a request with an optional JSON body and returns the response
// body of a 2xx response; any other response is an *apiError.
func (cl *client) do(ctx context.Context, method, path string, query url.Values, in any) ([]byte, error) {
	target := cl.base + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "vane-cli/"+version)
	cl.authorize(req)

	resp, err := cl.http.Do(req)
	if err != nil {
		return nil, cl.transportError(ctx, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, cl.transportError(ctx, err)
	}
	if resp.StatusCode == http.StatusAccepted && strings.HasPrefix(path, "/v1/") {
		if err := proposal(b); err != nil {
			return nil, err
		}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return b, nil
	}
	return nil, responseError(resp, b)
}

// proposedError is the outcome of a write that needs approval: the server
// made a change request of it instead of writing.
type proposedError struct {
	ID string
}

func (e *proposedError) Error() string {
	return "the change needs approval and was not written: change request " + e.ID +
		" was created; another principal approves it (vane cr approve " + e.ID + "), then it is applied (vane cr apply " + e.ID + ")"
}

// proposal returns the *proposedError of a 202 answer holding a change
// request, nil for any other 202.
func proposal(body []byte) error {
	var v struct {
		ChangeRequest *struct {
			ID string `json:"id"`
		} `json:"change_request"`
	}
	if json.Unmarshal(body, &v) != nil || v.ChangeRequest == nil || v.ChangeRequest.ID == "" {
		return nil
	}
	return &proposedError{ID: v.ChangeRequest.ID}
}

// transportError explains a failure to talk to the server at all.
func (cl *client) transportError(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("interrupted: %w", context.Cause(ctx))
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("cannot connect to the Vane server at %s: connection refused (is 'vane serve' running there? set --server or VANE_SERVER)", cl.base)
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	return fmt.Errorf("cannot talk to the Vane server at %s: %w", cl.base, err)
}

// responseError turns a non-2xx response into an *apiError, from the API's
// error body when there is one.
func responseError(resp *http.Response, body []byte) error {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Detail  string `json:"detail"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error.Code != "" {
		msg := e.Error.Message
		if msg == "" {
			msg = "the server answered " + resp.Status
		}
		return &apiError{Status: resp.StatusCode, Code: e.Error.Code, Detail: e.Error.Detail, Message: msg}
	}
	msg := "the server answered " + resp.Status
	if loc := resp.Header.Get("Location"); loc != "" {
		msg += ", redirecting to " + loc + ": check the server URL"
	} else if text := strings.TrimSpace(string(body)); text != "" {
		if len(text) > 200 {
			text = text[:200] + "..."
		}
		msg += ": " + text
	}
	return &apiError{Status: resp.StatusCode, Message: msg}
}

// call sends a request and decodes the JSON response into out; it
// returns the response body too, for -o json.
func (cl *client) call(ctx context.Context, method, path string, query url.Values, in, out any) ([]byte, error) {
	b, err := cl.do(ctx, method, path, query, in)
	if err != nil {
		return nil, err
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return nil, fmt.Errorf("the server at %s sent a response that is not the API's JSON: %w", cl.base, err)
		}
	}
	return b, nil
}
