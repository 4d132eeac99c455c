package http

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
)

// The AppConfig control plane (REST-JSON, the model "appconfig"
// 2019-10-09): the operations that read Vane's views of the parameter tree
// (applications, environments, configuration profiles), the hosted
// configuration versions (appconfig_hosted.go), and deployment strategies
// and deployments (appconfig_deploy.go).
//
// Every object but two is derived from parameter names, so there is
// nothing to create, update or delete: those operations, and every other
// operation of the model (extensions, tags, account settings), answer
// UnknownOperationException. The two kinds of objects AppConfig keeps
// that have no place in the tree are kept as parameters under
// /vane/appconfig/: hosted versions are versions of a staging parameter
// per profile, and custom strategies and deployment records are one
// parameter each. They are written through Server.Store, so the write
// checks, the audit history, the change log and watch streams apply to
// them as to any write.
//
// What a caller sees follows its policy on the names behind each object:
// an application, environment or profile is listed only to callers that
// may describe (ssm:DescribeParameters) at least one parameter behind it.

// unknownOperationStatus is the status of UnknownOperationException.
// REST-JSON routes an operation by method and path, so a request that
// matches none is, at the HTTP level, a resource that does not exist:
// AWS's REST-JSON front ends answer such requests 404 with the exception
// UnknownOperationException in X-Amzn-ErrorType (400 with that name is
// the answer of the JSON 1.1 services, which route by X-Amz-Target and
// where the URL always exists). The SDKs key on the name, not the status;
// neither status is retried.
const unknownOperationStatus = http.StatusNotFound

// unsupportedAppConfigOps are the operations of the model Vane does not
// serve, with their routes. GetConfiguration is the data plane's old
// call, replaced by AppConfigData's sessions.
var unsupportedAppConfigOps = []struct{ route, op string }{
	{"POST /applications", "CreateApplication"},
	{"DELETE /applications/{ApplicationId}", "DeleteApplication"},
	{"PATCH /applications/{ApplicationId}", "UpdateApplication"},
	{"POST /applications/{ApplicationId}/environments", "CreateEnvironment"},
	{"DELETE /applications/{ApplicationId}/environments/{EnvironmentId}", "DeleteEnvironment"},
	{"PATCH /applications/{ApplicationId}/environments/{EnvironmentId}", "UpdateEnvironment"},
	{"POST /applications/{ApplicationId}/configurationprofiles", "CreateConfigurationProfile"},
	{"DELETE /applications/{ApplicationId}/configurationprofiles/{ConfigurationProfileId}", "DeleteConfigurationProfile"},
	{"PATCH /applications/{ApplicationId}/configurationprofiles/{ConfigurationProfileId}", "UpdateConfigurationProfile"},
	{"DELETE /applications/{ApplicationId}/configurationprofiles/{ConfigurationProfileId}/hostedconfigurationversions/{VersionNumber}", "DeleteHostedConfigurationVersion"},
	{"POST /applications/{ApplicationId}/configurationprofiles/{ConfigurationProfileId}/validators", "ValidateConfiguration"},
	{"GET /applications/{Application}/environments/{Environment}/configurations/{Configuration}", "GetConfiguration"},
	{"PATCH /deploymentstrategies/{DeploymentStrategyId}", "UpdateDeploymentStrategy"},
	{"DELETE /deployementstrategies/{DeploymentStrategyId}", "DeleteDeploymentStrategy"}, // sic: the model's route
	{"POST /extensions", "CreateExtension"},
	{"GET /extensions", "ListExtensions"},
	{"GET /extensions/{ExtensionIdentifier}", "GetExtension"},
	{"PATCH /extensions/{ExtensionIdentifier}", "UpdateExtension"},
	{"DELETE /extensions/{ExtensionIdentifier}", "DeleteExtension"},
	{"POST /extensionassociations", "CreateExtensionAssociation"},
	{"GET /extensionassociations", "ListExtensionAssociations"},
	{"GET /extensionassociations/{ExtensionAssociationId}", "GetExtensionAssociation"},
	{"PATCH /extensionassociations/{ExtensionAssociationId}", "UpdateExtensionAssociation"},
	{"DELETE /extensionassociations/{ExtensionAssociationId}", "DeleteExtensionAssociation"},
	{"GET /settings", "GetAccountSettings"},
	{"PATCH /settings", "UpdateAccountSettings"},
	// An SDK escapes the ARN's slashes; a client that doesn't still gets
	// the operation's name.
	{"GET /tags/{ResourceArn...}", "ListTagsForResource"},
	{"POST /tags/{ResourceArn...}", "TagResource"},
	{"DELETE /tags/{ResourceArn...}", "UntagResource"},
}

// appConfigRoots are the subtrees of the control plane's paths (see
// isAppConfigPath); any request under them that no route serves is
// UnknownOperationException.
var appConfigRoots = []string{
	"/applications", "/applications/", "/deploymentstrategies", "/deploymentstrategies/", "/deployementstrategies/",
	"/extensions", "/extensions/", "/extensionassociations", "/extensionassociations/", "/settings", "/settings/", "/tags/",
}

// registerControlRoutes adds the control plane's routes.
func (ac *appConfig) registerControlRoutes(mux *http.ServeMux) {
	const (
		app     = "/applications/{ApplicationId}"
		env     = app + "/environments/{EnvironmentId}"
		profile = app + "/configurationprofiles/{ConfigurationProfileId}"
	)
	mux.HandleFunc("GET /applications", ac.listApplications)
	mux.HandleFunc("GET "+app, ac.getApplication)
	mux.HandleFunc("GET "+app+"/environments", ac.listEnvironments)
	mux.HandleFunc("GET "+env, ac.getEnvironment)
	mux.HandleFunc("GET "+app+"/configurationprofiles", ac.listConfigurationProfiles)
	mux.HandleFunc("GET "+profile, ac.getConfigurationProfile)
	mux.HandleFunc("GET "+profile+"/hostedconfigurationversions", ac.listHostedConfigurationVersions)
	mux.HandleFunc("POST "+profile+"/hostedconfigurationversions", ac.createHostedConfigurationVersion)
	mux.HandleFunc("GET "+profile+"/hostedconfigurationversions/{VersionNumber}", ac.getHostedConfigurationVersion)
	mux.HandleFunc("GET /deploymentstrategies", ac.listDeploymentStrategies)
	mux.HandleFunc("POST /deploymentstrategies", ac.createDeploymentStrategy)
	mux.HandleFunc("GET /deploymentstrategies/{DeploymentStrategyId}", ac.getDeploymentStrategy)
	mux.HandleFunc("POST "+env+"/deployments", ac.startDeployment)
	mux.HandleFunc("GET "+env+"/deployments", ac.listDeployments)
	mux.HandleFunc("GET "+env+"/deployments/{DeploymentNumber}", ac.getDeployment)
	mux.HandleFunc("DELETE "+env+"/deployments/{DeploymentNumber}", ac.stopDeployment)
	for _, u := range unsupportedAppConfigOps {
		mux.HandleFunc(u.route, ac.unsupported(u.op))
	}
	for _, root := range appConfigRoots {
		mux.HandleFunc(root, ac.unsupported(""))
	}
}

// unsupported returns the handler of an operation Vane does not serve
// ("" for a request that is no operation of the model).
func (ac *appConfig) unsupported(op string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		what := op + " is not supported by Vane"
		if op == "" {
			what = r.Method + " " + r.URL.Path + " is not an AppConfig operation Vane serves"
		}
		ac.s.writeAppConfigError(w, r, &appConfigError{Type: "UnknownOperationException", Status: unknownOperationStatus,
			msg: what + ": Vane maps AppConfig onto parameter names (an application is their first segment, an environment the second, " +
				"a configuration profile the rest), so applications, environments and profiles need no creating, changing or deleting; " +
				"see doc/aws-compat.md, \"AWS AppConfig compatibility\""})
	}
}

// Paging of the control plane's listings. Each listing is computed whole
// and sorted by a key; a NextToken carries the last key returned, signed
// (pageTokens) for the operation and what it lists, so a client can't
// forge one or replay it on another listing.

const (
	defaultMaxResults = 50
	maxMaxResults     = 50
)

// acMaxResults reads the max_results query parameter: 1 to 50, 50 when
// absent.
func acMaxResults(r *http.Request) (int, error) {
	v := r.URL.Query().Get("max_results")
	if v == "" {
		return defaultMaxResults, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxMaxResults {
		return 0, badRequest("MaxResults must be from 1 to 50, not " + strconv.Quote(v))
	}
	return n, nil
}

// page returns the range [lo, hi) of keys (sorted ascending, distinct)
// that the request's max_results and next_token select, and the token of
// the page after it ("" on the last page).
func (ac *appConfig) page(r *http.Request, op, scope string, keys []string) (lo, hi int, next string, err error) {
	n, err := acMaxResults(r)
	if err != nil {
		return 0, 0, "", err
	}
	op = "appconfig." + op
	after, err := ac.tokens.open(op, scope, r.URL.Query().Get("next_token"))
	if err != nil {
		return 0, 0, "", err
	}
	if after != "" {
		// The key the token names may be gone: start at the first after it.
		lo = sort.SearchStrings(keys, after)
		if lo < len(keys) && keys[lo] == after {
			lo++
		}
	}
	hi = min(lo+n, len(keys))
	if hi < len(keys) {
		next = ac.tokens.seal(op, scope, keys[hi-1])
	}
	return lo, hi, next, nil
}

// The shapes of the control plane's objects, as the model names their
// members.
type (
	acApplication struct {
		Id, Name, Description string
	}
	acEnvironment struct {
		ApplicationId, Id, Name, Description, State string
		Monitors                                    []struct{}
	}
	acProfile struct {
		ApplicationId, Id, Name, Description, LocationUri, Type string
		Validators                                              []struct{}
	}
	acProfileSummary struct {
		ApplicationId, Id, Name, LocationUri string
		ValidatorTypes                       []string
		Type                                 string
	}
	acList[T any] struct {
		Items     []T
		NextToken string `json:",omitempty"`
	}
)

// Configuration profile types.
const (
	profileTypeFlags    = "AWS.AppConfig.FeatureFlags"
	profileTypeFreeform = "AWS.Freeform"
	// hostedLocation is every profile's LocationUri: its versions are
	// hosted configuration versions.
	hostedLocation = "hosted"
)

// applicationView is an application as AppConfig shows it.
func applicationView(app string) acApplication {
	return acApplication{Id: appConfigID("application", app), Name: app}
}

// profileType is a profile's Type: feature flags for features, freeform
// for the others.
func profileType(name string) string {
	if name == featuresProfile {
		return profileTypeFlags
	}
	return profileTypeFreeform
}

// profileView is a profile as AppConfig shows it.
func profileView(app, name string) acProfile {
	desc := "the parameter /" + app + "/{environment}/" + name + " of each environment"
	if name == featuresProfile {
		desc = "the flags under /" + app + "/{environment}/features/ of each environment, as one feature-flags document"
	}
	return acProfile{ApplicationId: appConfigID("application", app), Id: appConfigID("profile", app+"/"+name), Name: name,
		Description: desc, LocationUri: hostedLocation, Type: profileType(name), Validators: []struct{}{}}
}

// application resolves the route's {ApplicationId}. As in the data
// plane, what a caller may not see does not exist for it: an application
// is found only by callers that may describe one of its parameters.
func (ac *appConfig) application(r *http.Request) (string, error) {
	return ac.resolveApplicationFor(r.Context(), auth.ActionDescribeParameters, r.PathValue("ApplicationId"))
}

// environment resolves the route's {ApplicationId} and {EnvironmentId},
// for callers that may describe one of the environment's parameters.
func (ac *appConfig) environment(r *http.Request) (app, env string, err error) {
	ctx := r.Context()
	if app, err = ac.resolveApplicationFor(ctx, auth.ActionDescribeParameters, r.PathValue("ApplicationId")); err != nil {
		return "", "", err
	}
	env, err = ac.resolveEnvironmentFor(ctx, auth.ActionDescribeParameters, app, r.PathValue("EnvironmentId"))
	return app, env, err
}

// listApplications serves ListApplications (GET /applications): the
// distinct first segments of parameter names, in name order.
func (ac *appConfig) listApplications(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ps, err := vane.AllUnder(ctx, ac.s.Store, "/", nil)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	ok := ac.s.visible(ctx, auth.ActionDescribeParameters)
	var apps []string
	for _, p := range ps {
		app, _, more := strings.Cut(strings.TrimPrefix(p.Name, "/"), "/")
		if !more || !validSegment(app) || (len(apps) > 0 && apps[len(apps)-1] == app) || (ok != nil && !ok(p.Name)) {
			continue
		}
		apps = append(apps, app)
	}
	// Names group by their first segment but don't sort by it: "/a-b/x"
	// comes before "/a/x".
	slices.Sort(apps)
	apps = slices.Compact(apps)
	lo, hi, next, err := ac.page(r, "ListApplications", "", apps)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	out := acList[acApplication]{Items: []acApplication{}, NextToken: next}
	for _, app := range apps[lo:hi] {
		out.Items = append(out.Items, applicationView(app))
	}
	writeJSON(w, http.StatusOK, out)
}

// getApplication serves GetApplication (GET /applications/{ApplicationId}).
func (ac *appConfig) getApplication(w http.ResponseWriter, r *http.Request) {
	app, err := ac.application(r)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, applicationView(app))
}

// listEnvironments serves ListEnvironments: the distinct second segments
// of the names under /{app}/.
func (ac *appConfig) listEnvironments(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	app, err := ac.application(r)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	base := "/" + app + "/"
	ps, err := vane.AllUnder(ctx, ac.s.Store, base, nil)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	ok := ac.s.visible(ctx, auth.ActionDescribeParameters)
	var envs []string
	for _, p := range ps {
		env, _, more := strings.Cut(strings.TrimPrefix(p.Name, base), "/")
		if more && (ok == nil || ok(p.Name)) {
			envs = append(envs, env)
		}
	}
	slices.Sort(envs)
	envs = slices.Compact(envs)
	lo, hi, next, err := ac.page(r, "ListEnvironments", app, envs)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	out := acList[acEnvironment]{Items: []acEnvironment{}, NextToken: next}
	for _, env := range envs[lo:hi] {
		v, err := ac.environmentView(ctx, app, env)
		if err != nil {
			ac.s.writeAppConfigError(w, r, err)
			return
		}
		out.Items = append(out.Items, v)
	}
	writeJSON(w, http.StatusOK, out)
}

// getEnvironment serves GetEnvironment.
func (ac *appConfig) getEnvironment(w http.ResponseWriter, r *http.Request) {
	app, env, err := ac.environment(r)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	v, err := ac.environmentView(r.Context(), app, env)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// environmentView is an environment as AppConfig shows it, with its
// state.
func (ac *appConfig) environmentView(ctx context.Context, app, env string) (acEnvironment, error) {
	state, err := ac.environmentState(ctx, app, env)
	return acEnvironment{ApplicationId: appConfigID("application", app), Id: appConfigID("environment", app+"/"+env),
		Name: env, State: state, Monitors: []struct{}{}}, err
}

// appProfiles returns the names of the configuration profiles of app the
// caller may see, in name order: "features"; every parameter name
// relative to /{app}/{env}/, over all environments, that the caller may
// describe; and the profiles that only have hosted versions, when the
// caller may describe their staging parameter.
func (ac *appConfig) appProfiles(ctx context.Context, app string) ([]string, error) {
	base := "/" + app + "/"
	ps, err := vane.AllUnder(ctx, ac.s.Store, base, nil)
	if err != nil {
		return nil, err
	}
	ok := ac.s.visible(ctx, auth.ActionDescribeParameters)
	names := []string{featuresProfile}
	for _, p := range ps {
		if rel := profileOf(base, p.Name); rel != "" && (ok == nil || ok(p.Name)) {
			names = append(names, rel)
		}
	}
	hosted, err := vane.AllUnder(ctx, ac.s.Store, hostedRoot+app+"/", nil)
	if err != nil {
		return nil, err
	}
	for _, p := range hosted {
		if m, err := parseHostedMeta(p.Description); err == nil && (ok == nil || ok(p.Name)) {
			names = append(names, m.Profile)
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// profileOf returns the profile a parameter name under base (/{app}/)
// belongs to: its name relative to /{app}/{env}/, or "" for a name with
// no environment segment.
func profileOf(base, name string) string {
	_, rel, ok := strings.Cut(strings.TrimPrefix(name, base), "/")
	if !ok {
		return ""
	}
	return rel
}

// listConfigurationProfiles serves ListConfigurationProfiles, filtered by
// the type query parameter.
func (ac *appConfig) listConfigurationProfiles(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	app, err := ac.application(r)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	typ := r.URL.Query().Get("type")
	names, err := ac.appProfiles(ctx, app)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	if typ != "" {
		names = slices.DeleteFunc(names, func(n string) bool { return profileType(n) != typ })
	}
	lo, hi, next, err := ac.page(r, "ListConfigurationProfiles", app+"\x00"+typ, names)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	out := acList[acProfileSummary]{Items: []acProfileSummary{}, NextToken: next}
	for _, n := range names[lo:hi] {
		v := profileView(app, n)
		out.Items = append(out.Items, acProfileSummary{ApplicationId: v.ApplicationId, Id: v.Id, Name: v.Name,
			LocationUri: v.LocationUri, ValidatorTypes: []string{}, Type: v.Type})
	}
	writeJSON(w, http.StatusOK, out)
}

// getConfigurationProfile serves GetConfigurationProfile.
func (ac *appConfig) getConfigurationProfile(w http.ResponseWriter, r *http.Request) {
	app, profile, err := ac.profile(r)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, profileView(app, profile))
}

// profile resolves the route's {ApplicationId} and
// {ConfigurationProfileId} for a caller that may see the application.
func (ac *appConfig) profile(r *http.Request) (app, profile string, err error) {
	if app, err = ac.application(r); err != nil {
		return "", "", err
	}
	profile, err = ac.resolveAppProfile(r.Context(), app, r.PathValue("ConfigurationProfileId"))
	return app, profile, err
}

// resolveAppProfile returns the name of the configuration profile of app
// that an identifier names, over all its environments: "features", the
// name of a parameter relative to /{app}/{env}/ in any environment, or a
// profile that only has hosted versions; by name or by ID; among those
// the caller may describe (see appProfiles). (The data plane's
// resolveProfile looks in one environment, where the profile must serve
// something.)
func (ac *appConfig) resolveAppProfile(ctx context.Context, app, ident string) (string, error) {
	if ident == featuresProfile || ident == appConfigID("profile", app+"/"+featuresProfile) {
		return featuresProfile, nil
	}
	rel := strings.TrimPrefix(ident, "/")
	// Hosted versions first: one read by the profile's ID.
	id := ident
	if !looksLikeID(ident) {
		id = appConfigID("profile", app+"/"+rel)
	}
	if name, err := ac.hostedProfile(ctx, app, id); err != nil || name != "" {
		return name, err
	}
	base := "/" + app + "/"
	ps, err := ac.allowedUnder(ctx, auth.ActionDescribeParameters, base)
	if err != nil {
		return "", err
	}
	for _, p := range ps {
		if n := profileOf(base, p.Name); n != "" && (n == rel || appConfigID("profile", app+"/"+n) == ident) {
			return n, nil
		}
	}
	return "", notFound("ConfigurationProfile", "Configuration profile "+ident+" could not be found in application "+app+
		": a profile is \"features\" (the flags under /"+app+"/{environment}/features/), the name of a parameter relative to /"+app+
		"/{environment}/, or a profile given hosted versions by name")
}

// hostedProfile returns the name of the profile of app whose ID is id if
// it has hosted versions the caller may describe, and "" otherwise.
func (ac *appConfig) hostedProfile(ctx context.Context, app, id string) (string, error) {
	if !looksLikeID(id) {
		return "", nil
	}
	name := hostedName(app, id)
	if ok := ac.s.visible(ctx, auth.ActionDescribeParameters); ok != nil && !ok(name) {
		return "", nil
	}
	p, err := ac.s.Store.Get(ctx, name)
	if vane.ErrorCode(err) == vane.ENOTFOUND {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	m, err := parseHostedMeta(p.Description)
	if err != nil || appConfigID("profile", app+"/"+m.Profile) != id {
		return "", badRequest("the description of the latest version of " + p.Name +
			" no longer names its configuration profile: it was changed outside AppConfig; put a version with CreateHostedConfigurationVersion")
	}
	return m.Profile, nil
}
