package http

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
	"github.com/vanehq/vane/flag"
)

// Hosted configuration versions. AppConfig keeps them per profile,
// outside any environment, until a deployment copies one into an
// environment; Vane keeps them as the versions of one staging parameter
// per profile, /vane/appconfig/hosted/{app}/{profile ID}. The ID, not the
// name, is the last segment: a profile's name may hold slashes and a
// "features" segment, which would make the staging parameter a flag.
//
// A version's number is the parameter's version and its content the
// value. Its content type, its description and the profile's name are
// per version in AppConfig, and a parameter's tags are not, so they are
// kept in the one other field Vane keeps per version: the description,
// as JSON ({"profile": ..., "content_type": ..., "description": ...}).
// The three together must fit the 1024 characters of a description. The
// VersionLabel is a Vane label on the version, so it must satisfy both
// AppConfig's rules and Vane's.

// hostedRoot is the path of the staging parameters.
const hostedRoot = "/vane/appconfig/hosted/"

// hostedName returns the staging parameter of a profile of app.
func hostedName(app, profileID string) string { return hostedRoot + app + "/" + profileID }

// hostedMeta is what a hosted version carries beside its content.
type hostedMeta struct {
	Profile     string `json:"profile"`
	ContentType string `json:"content_type"`
	Description string `json:"description,omitempty"`
}

// parseHostedMeta reads what a version's description carries.
func parseHostedMeta(desc string) (*hostedMeta, error) {
	var m hostedMeta
	if err := json.Unmarshal([]byte(desc), &m); err != nil {
		return nil, err
	}
	if m.Profile == "" {
		return nil, errors.New("the description names no profile")
	}
	return &m, nil
}

// metaOf returns what a version of a staging parameter carries. A version
// written outside AppConfig (with SSM, say) gets the content type its
// value reads as and no description.
func metaOf(p *vane.Parameter) *hostedMeta {
	m, err := parseHostedMeta(p.Description)
	if err != nil {
		return &hostedMeta{ContentType: configContentType(p.Value, nil)}
	}
	return m
}

// Limits of the model on hosted versions.
const (
	maxContentTypeLength = 255
	maxVersionLabel      = 64
)

// checkVersionLabel checks a VersionLabel against AppConfig's rules (1 to
// 64 characters, not only digits) and Vane's label rules, naming the rule
// it breaks.
func checkVersionLabel(l string) error {
	bad := func(why string) error { return badRequest("VersionLabel " + strconv.Quote(l) + " " + why) }
	switch {
	case len(l) > maxVersionLabel:
		return bad("is longer than 64 characters")
	case strings.Trim(l, "0123456789") == "":
		return bad("is only digits: it must contain at least one other character, as AppConfig requires")
	case l[0] >= '0' && l[0] <= '9':
		return bad("begins with a digit: Vane keeps it as a parameter label, and labels can't (v2.2.0 can, 2.2.0 can't)")
	case strings.HasPrefix(strings.ToLower(l), "aws") || strings.HasPrefix(strings.ToLower(l), "ssm"):
		return bad("begins with aws or ssm: Vane keeps it as a parameter label, and those prefixes are reserved")
	case !vane.ValidLabel(l):
		return bad("has a character other than letters, digits, '.', '_' and '-': Vane keeps it as a parameter label, which allows only those")
	}
	return nil
}

// versionLabel returns the labels of a version that AppConfig can show as
// its VersionLabel: the first, in order, that satisfies AppConfig's rules.
func versionLabel(labels []string) string {
	for _, l := range labels {
		if len(l) <= maxVersionLabel && strings.Trim(l, "0123456789") != "" {
			return l
		}
	}
	return ""
}

// invalidDetail is one InvalidConfigurationDetail of a BadRequestException.
type invalidDetail struct {
	Location, Reason, Type string
}

// invalidConfiguration is the BadRequestException for content that does
// not validate, with the model's InvalidConfiguration details.
func invalidConfiguration(msg string, details []invalidDetail) *appConfigError {
	return &appConfigError{Type: "BadRequestException", Status: http.StatusBadRequest, msg: msg,
		Reason: "InvalidConfiguration", Details: map[string]any{"InvalidConfiguration": details}}
}

// flagProblem describes an error of flag.Parse as a detail at a location
// under prefix ("$" for a flag profile, "$.name" for a feature).
func flagProblem(prefix string, err error) invalidDetail {
	var fe *flag.Error
	if errors.As(err, &fe) {
		return invalidDetail{Location: prefix + strings.TrimPrefix(fe.Path, "$"), Reason: fe.Message, Type: "FlagDocument"}
	}
	return invalidDetail{Location: prefix, Reason: err.Error(), Type: "FlagDocument"}
}

// featureDocuments reads a document of the features profile: a JSON object of
// feature name → flag document (Vane's, or Powertools' per-feature form),
// each one flag.Parse accepts. It returns the features' documents,
// compacted, by name. Every problem is named in the error.
func featureDocuments(app, content string) (map[string]string, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(content), &doc); err != nil || doc == nil {
		return nil, invalidConfiguration("the content of the features profile must be a JSON object of feature name to flag document",
			[]invalidDetail{{Location: "$", Reason: "not a JSON object", Type: "FeatureFlagsDocument"}})
	}
	names := make([]string, 0, len(doc))
	for n := range doc {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make(map[string]string, len(doc))
	var problems []invalidDetail
	for _, n := range names {
		name := "/" + app + "/{env}/" + featuresProfile + "/" + n
		if strings.Contains(n, "/") {
			problems = append(problems, invalidDetail{Location: "$." + n, Reason: "a feature name can't hold '/': it is the last segment of a parameter name", Type: "FeatureName"})
			continue
		}
		if _, err := vane.ValidateName("/a/e/" + featuresProfile + "/" + n); err != nil {
			problems = append(problems, invalidDetail{Location: "$." + n, Reason: vane.ErrorMessage(err), Type: "FeatureName"})
			continue
		}
		value := compactDocument(string(doc[n]))
		if _, err := flag.Parse(name, value); err != nil {
			problems = append(problems, flagProblem("$."+n, err))
			continue
		}
		out[n] = value
	}
	if len(problems) > 0 {
		return nil, invalidConfiguration("the features document has invalid features: "+describeProblems(problems), problems)
	}
	return out, nil
}

// compactDocument returns v without the insignificant spaces of JSON, or v
// trimmed when it is not JSON.
func compactDocument(v string) string {
	var b bytes.Buffer
	if json.Compact(&b, []byte(v)) != nil {
		return strings.TrimSpace(v)
	}
	return b.String()
}

// describeProblems joins problems into a message.
func describeProblems(ps []invalidDetail) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.Location + ": " + p.Reason
	}
	return strings.Join(parts, "; ")
}

// checkContent validates the content of a version of profile.
func checkContent(app, profile, content string) error {
	if profile == featuresProfile {
		_, err := featureDocuments(app, content)
		return err
	}
	name := "/" + app + "/{env}/" + profile
	if flag.IsFlagName("/a/e/" + profile) {
		if _, err := flag.Parse(name, content); err != nil {
			d := flagProblem("$", err)
			return invalidConfiguration("profile "+profile+" is a flag, so its content must be a flag document: "+d.Location+": "+d.Reason, []invalidDetail{d})
		}
	}
	return nil
}

// acHostedVersion is a HostedConfigurationVersionSummary.
type acHostedVersion struct {
	ApplicationId, ConfigurationProfileId string
	VersionNumber                         int64
	Description                           string `json:",omitempty"`
	ContentType                           string
	VersionLabel                          string `json:",omitempty"`
}

// writeHostedVersion answers a HostedConfigurationVersion: its fields in
// headers, its content as the body.
func writeHostedVersion(w http.ResponseWriter, status int, v *acHostedVersion, content string) {
	h := w.Header()
	h.Set("Application-Id", v.ApplicationId)
	h.Set("Configuration-Profile-Id", v.ConfigurationProfileId)
	h.Set("Version-Number", strconv.FormatInt(v.VersionNumber, 10))
	if v.Description != "" {
		h.Set("Description", headerText(v.Description))
	}
	if v.VersionLabel != "" {
		h.Set("VersionLabel", v.VersionLabel)
	}
	h.Set("Content-Type", headerText(v.ContentType))
	h.Set("Content-Length", strconv.Itoa(len(content)))
	w.WriteHeader(status)
	io.WriteString(w, content)
}

// headerText replaces the control characters a header value can't hold.
func headerText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// hostedVersionView is a version of a staging parameter as AppConfig
// shows it.
func hostedVersionView(app, profile string, p *vane.Parameter) *acHostedVersion {
	m := metaOf(p)
	return &acHostedVersion{ApplicationId: appConfigID("application", app), ConfigurationProfileId: appConfigID("profile", app+"/"+profile),
		VersionNumber: p.Version, Description: m.Description, ContentType: m.ContentType, VersionLabel: versionLabel(p.Labels)}
}

// isResourceNotFound reports whether err is a ResourceNotFoundException.
func isResourceNotFound(err error) bool {
	var ae *appConfigError
	return errors.As(err, &ae) && ae.Type == "ResourceNotFoundException"
}

// createHostedConfigurationVersion serves CreateHostedConfigurationVersion
// (POST .../hostedconfigurationversions): the body is the content, the
// headers the rest. A profile that does not exist yet may be named: its
// first version creates it (AppConfig's CreateConfigurationProfile has no
// counterpart). The caller needs ssm:PutParameter on the staging
// parameter.
func (ac *appConfig) createHostedConfigurationVersion(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	app, err := ac.application(r)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	ident := r.PathValue("ConfigurationProfileId")
	profile, err := ac.resolveAppProfile(ctx, app, ident)
	if isResourceNotFound(err) {
		profile, err = newProfileName(app, ident, err)
	}
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	h := r.Header
	meta := hostedMeta{Profile: profile, ContentType: h.Get("Content-Type"), Description: h.Get("Description")}
	var expect *int64
	label := h.Get("VersionLabel")
	switch {
	case meta.ContentType == "" || len(meta.ContentType) > maxContentTypeLength:
		err = badRequest("ContentType (the Content-Type header) is required: 1 to 255 characters, such as application/json")
	case utf8.RuneCountInString(meta.Description) > vane.MaxDescriptionLength:
		err = badRequest("Description is longer than 1024 characters")
	case label != "":
		err = checkVersionLabel(label)
	}
	if v := h.Get("Latest-Version-Number"); v != "" && err == nil {
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil || n < 0 {
			err = badRequest("LatestVersionNumber must be a version number, not " + strconv.Quote(v))
		}
		expect = &n
	}
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	content, err := readContent(w, r)
	if err == nil {
		err = checkContent(app, profile, content)
	}
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	desc, _ := json.Marshal(meta)
	if n := utf8.RuneCount(desc); n > vane.MaxDescriptionLength {
		ac.s.writeAppConfigError(w, r, badRequest(fmt.Sprintf("the profile's name, the content type and the description take %d characters together, "+
			"with their JSON: Vane keeps them in the version's parameter description, which holds %d", n, vane.MaxDescriptionLength)))
		return
	}
	staging := hostedName(app, appConfigID("profile", app+"/"+profile))
	if flag.IsFlagName(staging) {
		ac.s.writeAppConfigError(w, r, badRequest("application "+app+" can't hold hosted versions: its staging parameter "+staging+
			" would be a flag, since it has a \"features\" segment"))
		return
	}
	if err := ac.s.allow(ctx, auth.ActionPutParameter, staging); err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	if label != "" {
		// Vane moves a label that is on another version; AppConfig's
		// callers expect a label to keep naming the version they gave it.
		if p, err := ac.s.Store.Get(ctx, staging+":"+label); err == nil {
			ac.s.writeAppConfigError(w, r, &appConfigError{Type: "ConflictException", Status: http.StatusConflict,
				msg: fmt.Sprintf("VersionLabel %s names version %d already: a label names one version of a profile", label, p.Version)})
			return
		} else if vane.ErrorCode(err) != vane.ENOTFOUND {
			ac.s.writeAppConfigError(w, r, err)
			return
		}
	}
	descStr := string(desc)
	items := []vane.BatchItem{{Op: vane.BatchPut, Put: &vane.PutInput{Name: staging, Value: content, Type: vane.TypeString, Description: &descStr,
		Tier: vane.TierIntelligent, Overwrite: true, ExpectVersion: expect}}}
	if label != "" {
		// In the put's batch: the version and its label are written
		// together or not at all. Version 0 is the latest: the put's.
		items = append(items, vane.BatchItem{Op: vane.BatchLabel, Label: &vane.LabelInput{Name: staging, Labels: []string{label}}})
	}
	res, err := ac.s.Store.Batch(ctx, &vane.BatchInput{Items: items})
	if err != nil {
		if vane.ErrorDetail(err) == vane.DetailVersionMismatch {
			err = &appConfigError{Type: "ConflictException", Status: http.StatusConflict,
				msg: "LatestVersionNumber does not match the latest version of profile " + profile + ": " + vane.ErrorMessage(err)}
		}
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	p := res.Items[0].Parameter
	if label != "" {
		p.Labels = []string{label}
	}
	writeHostedVersion(w, http.StatusCreated, hostedVersionView(app, profile, p), content)
}

// newProfileName returns the name of a profile that a first hosted version
// creates, or notFound (the resolution's error) when ident can't be one.
func newProfileName(app, ident string, notFound error) (string, error) {
	rel := strings.TrimPrefix(ident, "/")
	if looksLikeID(rel) {
		// A mistyped ID must not create a profile named after it.
		return "", notFound
	}
	if _, err := vane.ValidateName("/" + app + "/env/" + rel); err != nil {
		return "", badRequest("ConfigurationProfileId " + strconv.Quote(ident) + " is neither an existing profile nor a name a new one can have: " + vane.ErrorMessage(err))
	}
	return rel, nil
}

// readContent reads a hosted version's content: text that a parameter
// value can hold.
func readContent(w http.ResponseWriter, r *http.Request) (string, error) {
	defer bodyDeadline(w)()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		return "", jsonError(err)
	}
	content := string(body)
	switch n := utf8.RuneCountInString(content); {
	case len(body) == 0:
		return "", badRequest("Content is empty: a configuration version needs content")
	case !utf8.Valid(body) || strings.ContainsRune(content, 0):
		return "", badRequest("Content must be text (UTF-8 without NUL characters): Vane keeps a configuration as a parameter value")
	case n > vane.MaxAdvancedValueLength:
		return "", &appConfigError{Type: "PayloadTooLargeException", Status: http.StatusRequestEntityTooLarge,
			msg: fmt.Sprintf("Content is %d characters (%.1f KB); Vane keeps a configuration as a parameter value, which holds at most %d characters (%d KB)",
				n, float64(len(body))/1024, vane.MaxAdvancedValueLength, vane.MaxAdvancedValueLength/1024),
			// The model measures in kilobytes.
			Members: map[string]any{"Measure": "KILOBYTES", "Limit": float64(vane.MaxAdvancedValueLength) / 1024, "Size": float64(len(body)) / 1024}}
	}
	return content, nil
}

// hostedVersion reads the route's version of a profile's staging
// parameter, for a caller allowed ssm:GetParameter on it.
func (ac *appConfig) hostedVersion(ctx context.Context, app, profile, version string) (*vane.Parameter, error) {
	staging := hostedName(app, appConfigID("profile", app+"/"+profile))
	if err := ac.s.allow(ctx, auth.ActionGetParameter, staging); err != nil {
		return nil, err
	}
	p, err := ac.s.Store.Get(ctx, staging+":"+version)
	if vane.ErrorCode(err) == vane.ENOTFOUND || vane.ErrorCode(err) == vane.EINVALID {
		return nil, notFound("HostedConfigurationVersion", "configuration profile "+profile+" of application "+app+" has no hosted version "+version)
	}
	return p, err
}

// getHostedConfigurationVersion serves GetHostedConfigurationVersion. The
// caller needs ssm:GetParameter on the staging parameter.
func (ac *appConfig) getHostedConfigurationVersion(w http.ResponseWriter, r *http.Request) {
	app, profile, err := ac.profile(r)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	v := r.PathValue("VersionNumber")
	if n, err := strconv.ParseInt(v, 10, 64); err != nil || n < 1 {
		ac.s.writeAppConfigError(w, r, badRequest("VersionNumber must be a version number, not "+strconv.Quote(v)))
		return
	}
	p, err := ac.hostedVersion(r.Context(), app, profile, v)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	writeHostedVersion(w, http.StatusOK, hostedVersionView(app, profile, p), p.Value)
}

// listHostedConfigurationVersions serves ListHostedConfigurationVersions:
// newest first, filtered by version_label (exact, or a prefix ending in
// "*"). The caller needs ssm:GetParameterHistory on the staging parameter.
func (ac *appConfig) listHostedConfigurationVersions(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	app, profile, err := ac.profile(r)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	staging := hostedName(app, appConfigID("profile", app+"/"+profile))
	if err := ac.s.allow(ctx, auth.ActionGetParameterHistory, staging); err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	versions, err := versionsOf(ctx, ac.s.Store, staging)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	filter := r.URL.Query().Get("version_label")
	prefix, wildcard := strings.CutSuffix(filter, "*")
	var keep []*vane.Parameter
	for _, p := range slices.Backward(versions) {
		l := versionLabel(p.Labels)
		if filter == "" || l == filter || wildcard && strings.HasPrefix(l, prefix) && l != "" {
			keep = append(keep, p)
		}
	}
	keys := make([]string, len(keep))
	for i, p := range keep {
		keys[i] = descendingKey(p.Version)
	}
	lo, hi, next, err := ac.page(r, "ListHostedConfigurationVersions", app+"/"+profile+"\x00"+filter, keys)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	out := acList[*acHostedVersion]{Items: []*acHostedVersion{}, NextToken: next}
	for _, p := range keep[lo:hi] {
		out.Items = append(out.Items, hostedVersionView(app, profile, p))
	}
	writeJSON(w, http.StatusOK, out)
}

// versionsOf returns every kept version of name, oldest first; none when it
// does not exist.
func versionsOf(ctx context.Context, st vane.Store, name string) ([]*vane.Parameter, error) {
	var out []*vane.Parameter
	in := &vane.HistoryInput{Name: name, Limit: vane.MaxPageSize}
	for {
		page, err := st.History(ctx, in)
		if vane.ErrorCode(err) == vane.ENOTFOUND {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, page.Parameters...)
		if page.NextToken == "" {
			return out, nil
		}
		in.NextToken = page.NextToken
	}
}

// descendingKey returns a key that sorts n, as strings, before every
// smaller number: for listings that are newest first.
func descendingKey(n int64) string {
	return fmt.Sprintf("%019d", math.MaxInt64-n)
}
