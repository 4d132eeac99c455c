package http

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
)

// Deployment strategies: the four that AWS predefines, and custom ones kept as
// parameters under /vane/appconfig/deployment-strategies/. A deployment
// copies its strategy's numbers into its record, and rolloutSpec maps
// them to a Vane rollout (see appconfig_deploy.go).

// The deployment strategies every account has, in AWS's order; their IDs
// are their names.
var predefinedStrategies = []acStrategy{
	{Id: "AppConfig.AllAtOnce", Name: "AppConfig.AllAtOnce", Description: "Quick: every target at once, then a 10-minute bake",
		DeploymentDurationInMinutes: 0, GrowthType: growthLinear, GrowthFactor: 100, FinalBakeTimeInMinutes: 10, ReplicateTo: "NONE"},
	{Id: "AppConfig.Linear50PercentEvery30Seconds", Name: "AppConfig.Linear50PercentEvery30Seconds",
		Description:                 "Test or demonstration: half the targets every 30 seconds, then a 1-minute bake",
		DeploymentDurationInMinutes: 1, GrowthType: growthLinear, GrowthFactor: 50, FinalBakeTimeInMinutes: 1, ReplicateTo: "NONE"},
	{Id: "AppConfig.Canary10Percent20Minutes", Name: "AppConfig.Canary10Percent20Minutes",
		Description:                 "AWS recommended: 10% of the targets, doubling over 20 minutes, then a 10-minute bake",
		DeploymentDurationInMinutes: 20, GrowthType: growthExponential, GrowthFactor: 10, FinalBakeTimeInMinutes: 10, ReplicateTo: "NONE"},
	{Id: "AppConfig.Linear20PercentEvery6Minutes", Name: "AppConfig.Linear20PercentEvery6Minutes",
		Description:                 "AWS recommended: 20% of the targets every 6 minutes, then a 30-minute bake",
		DeploymentDurationInMinutes: 30, GrowthType: growthLinear, GrowthFactor: 20, FinalBakeTimeInMinutes: 30, ReplicateTo: "NONE"},
}

const (
	growthLinear      = "LINEAR"
	growthExponential = "EXPONENTIAL"
	// strategyRoot is where custom strategies are kept, one parameter
	// each, named by ID.
	strategyRoot = "/vane/appconfig/deployment-strategies/"
	// maxStrategyMinutes bounds a strategy's duration and bake, as the
	// model does (24 hours).
	maxStrategyMinutes = 1440
	// minStepInterval is the shortest time between a rollout's steps
	// (rollout.MinInterval): a strategy with more steps than seconds is
	// stretched to it.
	minStepInterval = time.Second
)

// acStrategy is a DeploymentStrategy, and the value of a custom
// strategy's parameter.
type acStrategy struct {
	Id                          string
	Name                        string
	Description                 string `json:",omitempty"`
	DeploymentDurationInMinutes int
	GrowthType                  string
	GrowthFactor                float64
	FinalBakeTimeInMinutes      int
	ReplicateTo                 string
}

// strategyKey orders the predefined strategies first, in AWS's order,
// then custom ones by ID.
func strategyKey(i int, s *acStrategy) string {
	if i < len(predefinedStrategies) {
		return fmt.Sprintf("0%02d", i)
	}
	return "1" + s.Id
}

// newStrategyID returns a random ID of seven characters of [0-9a-z], as
// AWS's.
func newStrategyID() string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	var b [7]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = digits[int(b[i])%len(digits)]
	}
	return string(b[:])
}

// strategy returns the strategy an ID names: a predefined one, or a
// custom one kept under strategyRoot. Strategies are shown to every
// caller: StartDeployment needs them, and they hold nothing but a name
// and four numbers.
func (ac *appConfig) strategy(ctx context.Context, id string) (*acStrategy, error) {
	for i := range predefinedStrategies {
		if predefinedStrategies[i].Id == id {
			s := predefinedStrategies[i]
			return &s, nil
		}
	}
	if looksLikeID(id) {
		p, err := ac.s.Store.Get(ctx, strategyRoot+id)
		if err == nil {
			var s acStrategy
			if err := json.Unmarshal([]byte(p.Value), &s); err != nil {
				return nil, vane.Errorf(vane.EINTERNAL, "deployment strategy %s: %v", p.Name, err)
			}
			s.Id = id
			return &s, nil
		}
		if vane.ErrorCode(err) != vane.ENOTFOUND {
			return nil, err
		}
	}
	return nil, notFound("DeploymentStrategy", "Deployment strategy "+id+" could not be found: it is a custom strategy's ID or the name of a predefined one (AppConfig.AllAtOnce, ...)")
}

// listDeploymentStrategies serves ListDeploymentStrategies: the
// predefined strategies, then the custom ones by ID.
func (ac *appConfig) listDeploymentStrategies(w http.ResponseWriter, r *http.Request) {
	ps, err := vane.AllUnder(r.Context(), ac.s.Store, strategyRoot, nil)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	all := slices.Clone(predefinedStrategies)
	for _, p := range ps {
		var s acStrategy
		id := strings.TrimPrefix(p.Name, strategyRoot)
		if looksLikeID(id) && json.Unmarshal([]byte(p.Value), &s) == nil {
			s.Id = id
			all = append(all, s)
		}
	}
	keys := make([]string, len(all))
	for i := range all {
		keys[i] = strategyKey(i, &all[i])
	}
	lo, hi, next, err := ac.page(r, "ListDeploymentStrategies", "", keys)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, acList[acStrategy]{Items: all[lo:hi], NextToken: next})
}

// getDeploymentStrategy serves GetDeploymentStrategy.
func (ac *appConfig) getDeploymentStrategy(w http.ResponseWriter, r *http.Request) {
	s, err := ac.strategy(r.Context(), r.PathValue("DeploymentStrategyId"))
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s)
}

// createStrategyRequest is the body of CreateDeploymentStrategy.
type createStrategyRequest struct {
	Name                        string
	Description                 string
	DeploymentDurationInMinutes *int
	FinalBakeTimeInMinutes      int
	GrowthFactor                *float64
	GrowthType                  string
	ReplicateTo                 string
	Tags                        map[string]string
}

// createDeploymentStrategy serves CreateDeploymentStrategy. The strategy
// is kept as the parameter /vane/appconfig/deployment-strategies/{id},
// with the request's tags as its tags; the caller needs ssm:PutParameter
// on it (a policy names them all with
// /vane/appconfig/deployment-strategies/*), as for any other write of a
// parameter.
func (ac *appConfig) createDeploymentStrategy(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var req createStrategyRequest
	if err := decodeAppConfigJSON(w, r, &req); err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	if err := checkStrategy(&req); err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	s := acStrategy{Name: req.Name, Description: req.Description, DeploymentDurationInMinutes: *req.DeploymentDurationInMinutes,
		GrowthType: req.GrowthType, GrowthFactor: *req.GrowthFactor, FinalBakeTimeInMinutes: req.FinalBakeTimeInMinutes, ReplicateTo: req.ReplicateTo}
	var tags []vane.Tag
	for k, v := range req.Tags {
		tags = append(tags, vane.Tag{Key: k, Value: v})
	}
	slices.SortFunc(tags, func(a, b vane.Tag) int { return strings.Compare(a.Key, b.Key) })
	for range 5 {
		s.Id = newStrategyID()
		if err := ac.s.allow(ctx, auth.ActionPutParameter, strategyRoot+s.Id); err != nil {
			ac.s.writeAppConfigError(w, r, err)
			return
		}
		value, _ := json.Marshal(s)
		_, err := ac.s.Store.Put(ctx, &vane.PutInput{Name: strategyRoot + s.Id, Value: string(value), Type: vane.TypeString, Tags: tags})
		if vane.ErrorDetail(err) == vane.DetailParameterAlreadyExists {
			continue // another strategy has this ID
		}
		if err != nil {
			ac.s.writeAppConfigError(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, s)
		return
	}
	ac.s.writeAppConfigError(w, r, vane.Errorf(vane.EINTERNAL, "no free strategy ID after 5 tries"))
}

// checkStrategy validates a strategy as the model does and fills in its
// defaults.
func checkStrategy(req *createStrategyRequest) error {
	switch {
	case req.Name == "" || utf8.RuneCountInString(req.Name) > 64:
		return badRequest("Name is required: 1 to 64 characters")
	case utf8.RuneCountInString(req.Description) > vane.MaxDescriptionLength:
		return badRequest("Description is longer than 1024 characters")
	case req.DeploymentDurationInMinutes == nil || *req.DeploymentDurationInMinutes < 0 || *req.DeploymentDurationInMinutes > maxStrategyMinutes:
		return badRequest("DeploymentDurationInMinutes is required: 0 to 1440")
	case req.FinalBakeTimeInMinutes < 0 || req.FinalBakeTimeInMinutes > maxStrategyMinutes:
		return badRequest("FinalBakeTimeInMinutes must be from 0 to 1440")
	case req.GrowthFactor == nil || *req.GrowthFactor < 1 || *req.GrowthFactor > 100 || math.IsNaN(*req.GrowthFactor):
		return badRequest("GrowthFactor is required: a percentage from 1 to 100")
	}
	switch req.GrowthType {
	case "":
		req.GrowthType = growthLinear
	case growthLinear, growthExponential:
	default:
		return badRequest("GrowthType must be LINEAR or EXPONENTIAL, not " + strconv.Quote(req.GrowthType))
	}
	switch req.ReplicateTo {
	case "":
		req.ReplicateTo = "NONE"
	case "NONE":
	case "SSM_DOCUMENT":
		return badRequest("ReplicateTo SSM_DOCUMENT is not supported: Vane keeps strategies as parameters, not SSM documents; use NONE")
	default:
		return badRequest("ReplicateTo must be NONE, not " + strconv.Quote(req.ReplicateTo))
	}
	return nil
}

// rolloutSpec returns the rollout a strategy maps to (see the comment at
// the top of this file). A value rollout takes all-at-once whatever the
// strategy.
func rolloutSpec(s *acStrategy, isFlag bool) vane.RolloutSpec {
	bake := vane.Duration(time.Duration(s.FinalBakeTimeInMinutes) * time.Minute)
	spec := vane.RolloutSpec{Strategy: vane.StrategyAllAtOnce, Bake: &bake}
	d, g := time.Duration(s.DeploymentDurationInMinutes)*time.Minute, s.GrowthFactor
	if !isFlag || d == 0 || g >= 100 {
		return spec
	}
	steps := math.Ceil(100 / g)
	spec.Strategy, spec.Step = vane.StrategyLinear, g
	if s.GrowthType == growthExponential {
		steps = 1 // the last step, at 100
		for v := g; v < 100; v *= 2 {
			steps++
		}
		spec.Strategy, spec.Factor = vane.StrategyExponential, 2
	}
	spec.Every = vane.Duration(max(minStepInterval, (d / time.Duration(steps)).Round(time.Millisecond)))
	return spec
}
