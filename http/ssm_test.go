package http_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
	"github.com/vanehq/vane"
	vanehttp "github.com/vanehq/vane/http"
)

// These tests drive the SSM protocol with aws-sdk-go-v2's SSM client
// against a real server, as doc/aws-compat.md tells users to configure it.

// MustSSM returns an SSM client for s: static credentials, us-east-1, the
// server's URL as BaseEndpoint, and no shared AWS configuration or
// instance metadata from the machine.
func MustSSM(tb testing.TB, s *Server, opts ...func(*ssm.Options)) *ssm.Client {
	tb.Helper()
	tb.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	tb.Setenv("AWS_CONFIG_FILE", "/nonexistent/vane-test")
	tb.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/vane-test")
	tb.Setenv("AWS_PROFILE", "") // a profile named but not in the files would fail
	tb.Setenv("AWS_DEFAULT_PROFILE", "")
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")))
	if err != nil {
		tb.Fatal(err)
	}
	opts = append([]func(*ssm.Options){func(o *ssm.Options) { o.BaseEndpoint = aws.String(s.URL()) }}, opts...)
	return ssm.NewFromConfig(cfg, opts...)
}

// wantErr fails the test unless err is (or wraps) an E, and returns it.
func wantErr[E error](tb testing.TB, err error) E {
	tb.Helper()
	var target E
	if !errors.As(err, &target) {
		tb.Fatalf("error %v (%T), want %T", err, err, target)
	}
	return target
}

// wantValidation fails the test unless err is a ValidationException whose
// message contains each of contains.
func wantValidation(tb testing.TB, err error, contains ...string) {
	tb.Helper()
	e := wantErr[*types.ValidationException](tb, err)
	for _, c := range contains {
		if !strings.Contains(e.ErrorMessage(), c) {
			tb.Fatalf("ValidationException %q does not contain %q", e.ErrorMessage(), c)
		}
	}
}

// must fails the test on an error and returns v.
func must[T any](tb testing.TB) func(T, error) T {
	return func(v T, err error) T {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		return v
	}
}

func put(tb testing.TB, c *ssm.Client, name, value string, opts ...func(*ssm.PutParameterInput)) *ssm.PutParameterOutput {
	tb.Helper()
	in := &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value), Type: types.ParameterTypeString, Overwrite: aws.Bool(true)}
	for _, o := range opts {
		o(in)
	}
	out, err := c.PutParameter(context.Background(), in)
	if err != nil {
		tb.Fatalf("PutParameter %s: %v", name, err)
	}
	return out
}

func TestSSMPutGetParameter(t *testing.T) {
	s := MustOpen(t)
	c := MustSSM(t, s)
	ctx := context.Background()
	const name = "/app/db/url"
	const arn = "arn:aws:ssm:us-east-1:000000000000:parameter/app/db/url"

	in := &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String("postgres://one"), Type: types.ParameterTypeString, Description: aws.String("the database")}
	out := must[*ssm.PutParameterOutput](t)(c.PutParameter(ctx, in))
	if out.Version != 1 || out.Tier != types.ParameterTierStandard {
		t.Fatalf("put: version %d tier %q", out.Version, out.Tier)
	}
	t.Run("ErrParameterAlreadyExists", func(t *testing.T) {
		_, err := c.PutParameter(ctx, in)
		wantErr[*types.ParameterAlreadyExists](t, err)
	})
	before := time.Now()
	in.Value, in.Overwrite, in.Type = aws.String("postgres://two"), aws.Bool(true), ""
	if out := must[*ssm.PutParameterOutput](t)(c.PutParameter(ctx, in)); out.Version != 2 {
		t.Fatalf("overwrite: version %d", out.Version)
	}

	t.Run("Latest", func(t *testing.T) {
		p := must[*ssm.GetParameterOutput](t)(c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})).Parameter
		if aws.ToString(p.Name) != name || aws.ToString(p.Value) != "postgres://two" || p.Version != 2 ||
			p.Type != types.ParameterTypeString || aws.ToString(p.ARN) != arn || aws.ToString(p.DataType) != "text" {
			t.Fatalf("parameter %+v", p)
		}
		if p.Selector != nil || p.SourceResult != nil {
			t.Fatalf("Selector %v SourceResult %v, want none", p.Selector, p.SourceResult)
		}
		if d := p.LastModifiedDate; d == nil || d.Before(before.Add(-time.Second)) || d.After(time.Now().Add(time.Second)) {
			t.Fatalf("LastModifiedDate %v, want about %v", d, before)
		}
	})
	t.Run("VersionSelector", func(t *testing.T) {
		p := must[*ssm.GetParameterOutput](t)(c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name + ":1")})).Parameter
		if p.Version != 1 || aws.ToString(p.Value) != "postgres://one" || aws.ToString(p.Selector) != ":1" || aws.ToString(p.Name) != name {
			t.Fatalf("parameter %+v", p)
		}
	})
	t.Run("ARN", func(t *testing.T) {
		p := must[*ssm.GetParameterOutput](t)(c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(arn)})).Parameter
		if aws.ToString(p.Name) != name || p.Version != 2 {
			t.Fatalf("by ARN: %+v", p)
		}
		p = must[*ssm.GetParameterOutput](t)(c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(arn + ":1")})).Parameter
		if p.Version != 1 || aws.ToString(p.Selector) != ":1" {
			t.Fatalf("by ARN with selector: %+v", p)
		}
	})
	t.Run("ErrParameterVersionNotFound", func(t *testing.T) {
		_, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name + ":3")})
		wantErr[*types.ParameterVersionNotFound](t, err)
	})
	t.Run("ErrParameterNotFound", func(t *testing.T) {
		_, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/nope")})
		e := wantErr[*types.ParameterNotFound](t, err)
		if !strings.Contains(e.ErrorMessage(), "/app/nope") {
			t.Fatalf("message %q", e.ErrorMessage())
		}
		_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name + ":nolabel")})
		wantErr[*types.ParameterNotFound](t, err)
	})
	t.Run("RootLevel", func(t *testing.T) {
		put(t, c, "region", "eu")
		p := must[*ssm.GetParameterOutput](t)(c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/region")})).Parameter
		if aws.ToString(p.Name) != "region" || aws.ToString(p.ARN) != "arn:aws:ssm:us-east-1:000000000000:parameter/region" {
			t.Fatalf("root-level: %+v", p)
		}
	})
}

func TestSSMRegionAccount(t *testing.T) {
	s := MustOpen(t, func(s *vanehttp.Server) { s.Region, s.Account = "eu-west-3", "123456789012" })
	c := MustSSM(t, s)
	put(t, c, "/ra/p", "v")
	p := must[*ssm.GetParameterOutput](t)(c.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/ra/p")})).Parameter
	if got := aws.ToString(p.ARN); got != "arn:aws:ssm:eu-west-3:123456789012:parameter/ra/p" {
		t.Fatalf("ARN %q", got)
	}
	d := must[*ssm.DescribeParametersOutput](t)(c.DescribeParameters(context.Background(), &ssm.DescribeParametersInput{}))
	if got := aws.ToString(d.Parameters[0].LastModifiedUser); got != "arn:aws:iam::123456789012:user/anonymous" {
		t.Fatalf("LastModifiedUser %q", got)
	}
}

func TestSSMGetParameters(t *testing.T) {
	s := MustOpen(t)
	c := MustSSM(t, s)
	ctx := context.Background()
	put(t, c, "/gp/b", "b1")
	put(t, c, "/gp/a", "a1")
	put(t, c, "/gp/a", "a2")

	out := must[*ssm.GetParametersOutput](t)(c.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{
		"/gp/b", "/gp/a", "/gp/missing", "/gp/a", "/gp/a:9", "bad name!", "/gp/a:1",
		"arn:aws:ssm:us-east-1:000000000000:parameter/gp/b",
	}}))
	var got []string
	for _, p := range out.Parameters {
		got = append(got, fmt.Sprintf("%s%s=%s", aws.ToString(p.Name), aws.ToString(p.Selector), aws.ToString(p.Value)))
	}
	if want := []string{"/gp/a=a2", "/gp/a:1=a1", "/gp/b=b1"}; !slices.Equal(got, want) {
		t.Fatalf("parameters %q, want %q (name order, each once)", got, want)
	}
	if want := []string{"/gp/missing", "/gp/a:9", "bad name!"}; !slices.Equal(out.InvalidParameters, want) {
		t.Fatalf("invalid %q, want %q", out.InvalidParameters, want)
	}

	t.Run("ErrElevenNames", func(t *testing.T) {
		names := make([]string, 11)
		for i := range names {
			names[i] = fmt.Sprintf("/gp/n%d", i)
		}
		_, err := c.GetParameters(ctx, &ssm.GetParametersInput{Names: names})
		wantValidation(t, err, "'names'", "less than or equal to 10")
	})
}

func TestSSMGetParametersByPath(t *testing.T) {
	s := MustOpen(t)
	c := MustSSM(t, s)
	ctx := context.Background()
	for i := 0; i < 23; i++ {
		put(t, c, fmt.Sprintf("/bp/p%02d", i), fmt.Sprint(i))
	}
	put(t, c, "/bp/sub/deep", "deep")
	put(t, c, "/bp/secret", "s3cret", func(in *ssm.PutParameterInput) { in.Type = types.ParameterTypeSecureString })
	must[*ssm.LabelParameterVersionOutput](t)(c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/bp/p01"), Labels: []string{"prod"}}))

	list := func(t *testing.T, in *ssm.GetParametersByPathInput) (names []string, pages int) {
		t.Helper()
		pg := ssm.NewGetParametersByPathPaginator(c, in)
		for pg.HasMorePages() {
			out, err := pg.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if len(out.Parameters) > 10 {
				t.Fatalf("page of %d", len(out.Parameters))
			}
			for _, p := range out.Parameters {
				names = append(names, aws.ToString(p.Name))
			}
		}
		return names, pages
	}
	t.Run("Paginator", func(t *testing.T) {
		names, pages := list(t, &ssm.GetParametersByPathInput{Path: aws.String("/bp"), MaxResults: aws.Int32(10)})
		if len(names) != 24 || pages != 3 || !slices.IsSorted(names) || slices.Contains(names, "/bp/sub/deep") {
			t.Fatalf("%d names in %d pages: %q", len(names), pages, names)
		}
		names, _ = list(t, &ssm.GetParametersByPathInput{Path: aws.String("/bp/"), Recursive: aws.Bool(true)})
		if len(names) != 25 || !slices.Contains(names, "/bp/sub/deep") {
			t.Fatalf("recursive: %d names", len(names))
		}
	})
	t.Run("DefaultPageSize", func(t *testing.T) {
		out := must[*ssm.GetParametersByPathOutput](t)(c.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/bp")}))
		if len(out.Parameters) != 10 || out.NextToken == nil {
			t.Fatalf("%d parameters, next token %v", len(out.Parameters), out.NextToken)
		}
	})
	t.Run("Filters", func(t *testing.T) {
		names, _ := list(t, &ssm.GetParametersByPathInput{Path: aws.String("/bp"), ParameterFilters: []types.ParameterStringFilter{
			{Key: aws.String("Type"), Values: []string{"SecureString"}},
		}})
		if !slices.Equal(names, []string{"/bp/secret"}) {
			t.Fatalf("Type filter: %q", names)
		}
		out := must[*ssm.GetParametersByPathOutput](t)(c.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/bp"),
			ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Label"), Option: aws.String("Equals"), Values: []string{"prod"}}}}))
		if len(out.Parameters) != 1 || aws.ToString(out.Parameters[0].Name) != "/bp/p01" {
			t.Fatalf("Label filter: %+v", out.Parameters)
		}
	})
	t.Run("ErrMaxResults", func(t *testing.T) {
		_, err := c.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/bp"), MaxResults: aws.Int32(11)})
		wantValidation(t, err, "'11'", "'maxResults'", "less than or equal to 10")
	})
	t.Run("ErrFilters", func(t *testing.T) {
		_, err := c.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/bp"),
			ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Name"), Values: []string{"x"}}}})
		wantErr[*types.InvalidFilterKey](t, err)
		_, err = c.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/bp"),
			ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Type"), Option: aws.String("Contains"), Values: []string{"S"}}}})
		wantErr[*types.InvalidFilterOption](t, err)
		_, err = c.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/bp"),
			ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Type"), Values: []string{"Bogus"}}}})
		wantErr[*types.InvalidFilterValue](t, err)
	})
	t.Run("ErrPath", func(t *testing.T) {
		_, err := c.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("bp")})
		wantValidation(t, err, "must begin with '/'")
	})
}

func TestSSMDescribeParameters(t *testing.T) {
	s := MustOpen(t)
	c := MustSSM(t, s)
	ctx := context.Background()
	for i := 0; i < 12; i++ {
		put(t, c, fmt.Sprintf("/dp/x%02d", i), "v", func(in *ssm.PutParameterInput) { in.Description = aws.String("number " + fmt.Sprint(i)) })
	}
	put(t, c, "/dp/secret", "s", func(in *ssm.PutParameterInput) {
		in.Type, in.KeyId, in.Overwrite = types.ParameterTypeSecureString, aws.String("alias/custom"), nil
		in.Tags = []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}
	})
	put(t, c, "/other", "v")

	describe := func(t *testing.T, in *ssm.DescribeParametersInput) (ps []types.ParameterMetadata, pages int) {
		t.Helper()
		pg := ssm.NewDescribeParametersPaginator(c, in)
		for pg.HasMorePages() {
			out, err := pg.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			ps = append(ps, out.Parameters...)
		}
		return ps, pages
	}
	t.Run("Paginator", func(t *testing.T) {
		ps, pages := describe(t, &ssm.DescribeParametersInput{MaxResults: aws.Int32(5), ParameterFilters: []types.ParameterStringFilter{
			{Key: aws.String("Path"), Option: aws.String("Recursive"), Values: []string{"/dp"}},
		}})
		if len(ps) != 13 || pages != 3 {
			t.Fatalf("%d parameters in %d pages", len(ps), pages)
		}
		p := ps[0]
		if aws.ToString(p.Name) != "/dp/secret" || p.Type != types.ParameterTypeSecureString || aws.ToString(p.KeyId) != "alias/custom" ||
			aws.ToString(p.ARN) != "arn:aws:ssm:us-east-1:000000000000:parameter/dp/secret" || p.Version != 1 ||
			p.Tier != types.ParameterTierStandard || aws.ToString(p.DataType) != "text" || p.LastModifiedDate == nil ||
			aws.ToString(p.LastModifiedUser) != "arn:aws:iam::000000000000:user/anonymous" || len(p.Policies) != 0 {
			t.Fatalf("metadata %+v", p)
		}
		if aws.ToString(ps[1].Description) != "number 0" || ps[1].KeyId != nil {
			t.Fatalf("metadata %+v", ps[1])
		}
	})
	t.Run("DeprecatedFilters", func(t *testing.T) {
		ps, _ := describe(t, &ssm.DescribeParametersInput{Filters: []types.ParametersFilter{{Key: types.ParametersFilterKeyName, Values: []string{"/dp/x0"}}}})
		if len(ps) != 10 {
			t.Fatalf("Name filter (BeginsWith): %d parameters", len(ps))
		}
		ps, _ = describe(t, &ssm.DescribeParametersInput{Filters: []types.ParametersFilter{{Key: types.ParametersFilterKeyType, Values: []string{"SecureString"}}}})
		if len(ps) != 1 || aws.ToString(ps[0].Name) != "/dp/secret" {
			t.Fatalf("Type filter: %+v", ps)
		}
	})
	t.Run("TagFilter", func(t *testing.T) {
		ps, _ := describe(t, &ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("tag:env"), Values: []string{"prod"}}}})
		if len(ps) != 1 {
			t.Fatalf("tag filter: %d parameters", len(ps))
		}
	})
	t.Run("Shared", func(t *testing.T) {
		out := must[*ssm.DescribeParametersOutput](t)(c.DescribeParameters(ctx, &ssm.DescribeParametersInput{Shared: aws.Bool(true)}))
		if len(out.Parameters) != 0 {
			t.Fatalf("shared: %d parameters", len(out.Parameters))
		}
	})
	t.Run("ErrBothFilterForms", func(t *testing.T) {
		_, err := c.DescribeParameters(ctx, &ssm.DescribeParametersInput{
			Filters:          []types.ParametersFilter{{Key: types.ParametersFilterKeyName, Values: []string{"/dp"}}},
			ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Name"), Values: []string{"/dp"}}},
		})
		wantValidation(t, err, "either Filters or ParameterFilters")
	})
	t.Run("ErrMaxResults", func(t *testing.T) {
		_, err := c.DescribeParameters(ctx, &ssm.DescribeParametersInput{MaxResults: aws.Int32(51)})
		wantValidation(t, err, "'maxResults'", "less than or equal to 50")
		_, err = c.DescribeParameters(ctx, &ssm.DescribeParametersInput{MaxResults: aws.Int32(0)})
		wantValidation(t, err, "'maxResults'", "greater than or equal to 1")
	})
	t.Run("ErrFilterKey", func(t *testing.T) {
		_, err := c.DescribeParameters(ctx, &ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Label"), Values: []string{"x"}}}})
		wantErr[*types.InvalidFilterKey](t, err)
		_, err = c.DescribeParameters(ctx, &ssm.DescribeParametersInput{Filters: []types.ParametersFilter{{Key: "Tier", Values: []string{"Standard"}}}})
		wantValidation(t, err, "'filters.1.member.key'", "enum value set")
	})
}

func TestSSMHistoryAndLabels(t *testing.T) {
	s := MustOpen(t)
	c := MustSSM(t, s)
	ctx := context.Background()
	const name = "/hl/p"
	for i := 1; i <= 5; i++ {
		put(t, c, name, fmt.Sprintf("v%d", i))
	}
	label := func(t *testing.T, version int64, labels ...string) *ssm.LabelParameterVersionOutput {
		t.Helper()
		in := &ssm.LabelParameterVersionInput{Name: aws.String(name), Labels: labels}
		if version > 0 {
			in.ParameterVersion = aws.Int64(version)
		}
		return must[*ssm.LabelParameterVersionOutput](t)(c.LabelParameterVersion(ctx, in))
	}
	labelled := func(t *testing.T, sel string) int64 {
		t.Helper()
		p := must[*ssm.GetParameterOutput](t)(c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name + ":" + sel)})).Parameter
		if aws.ToString(p.Selector) != ":"+sel {
			t.Fatalf("Selector %q, want :%s", aws.ToString(p.Selector), sel)
		}
		return p.Version
	}
	history := func(t *testing.T, in *ssm.GetParameterHistoryInput) []types.ParameterHistory {
		t.Helper()
		var out []types.ParameterHistory
		pg := ssm.NewGetParameterHistoryPaginator(c, in)
		for pg.HasMorePages() {
			page, err := pg.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, page.Parameters...)
		}
		return out
	}

	t.Run("LabelMoves", func(t *testing.T) {
		if out := label(t, 1, "blue"); out.ParameterVersion != 1 || len(out.InvalidLabels) != 0 {
			t.Fatalf("label: %+v", out)
		}
		if v := labelled(t, "blue"); v != 1 {
			t.Fatalf("blue on version %d", v)
		}
		label(t, 3, "blue")
		if v := labelled(t, "blue"); v != 3 {
			t.Fatalf("blue moved to version %d, want 3", v)
		}
		if out := label(t, 0, "latest"); out.ParameterVersion != 5 {
			t.Fatalf("label without version went to %d, want the latest, 5", out.ParameterVersion)
		}
	})
	t.Run("Paginator", func(t *testing.T) {
		hs := history(t, &ssm.GetParameterHistoryInput{Name: aws.String(name), MaxResults: aws.Int32(2)})
		if len(hs) != 5 {
			t.Fatalf("%d versions", len(hs))
		}
		for i, h := range hs {
			if h.Version != int64(i+1) || aws.ToString(h.Value) != fmt.Sprintf("v%d", i+1) ||
				aws.ToString(h.LastModifiedUser) != "arn:aws:iam::000000000000:user/anonymous" || h.LastModifiedDate == nil {
				t.Fatalf("version %d: %+v", i+1, h)
			}
		}
		if len(hs[0].Labels) != 0 || !slices.Equal(hs[2].Labels, []string{"blue"}) || !slices.Equal(hs[4].Labels, []string{"latest"}) {
			t.Fatalf("labels %q %q %q", hs[0].Labels, hs[2].Labels, hs[4].Labels)
		}
		byARN := history(t, &ssm.GetParameterHistoryInput{Name: aws.String("arn:aws:ssm:us-east-1:000000000000:parameter/hl/p")})
		if len(byARN) != 5 {
			t.Fatalf("by ARN: %d versions", len(byARN))
		}
	})
	t.Run("InvalidLabels", func(t *testing.T) {
		out := label(t, 2, "1digit", "awsy", "ok-label")
		if !slices.Equal(out.InvalidLabels, []string{"1digit", "awsy"}) {
			t.Fatalf("invalid labels %q", out.InvalidLabels)
		}
		if v := labelled(t, "ok-label"); v != 2 {
			t.Fatalf("ok-label on %d", v)
		}
	})
	t.Run("ErrParameterVersionLabelLimitExceeded", func(t *testing.T) {
		labels := make([]string, 9)
		for i := range labels {
			labels[i] = fmt.Sprintf("l%d", i)
		}
		label(t, 2, labels...) // 10 with ok-label
		_, err := c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String(name), ParameterVersion: aws.Int64(2), Labels: []string{"one-more"}})
		wantErr[*types.ParameterVersionLabelLimitExceeded](t, err)
	})
	t.Run("ErrTooManyLabelsInRequest", func(t *testing.T) {
		labels := make([]string, 11)
		for i := range labels {
			labels[i] = fmt.Sprintf("m%d", i)
		}
		_, err := c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String(name), Labels: labels})
		wantValidation(t, err, "11 labels", "10")
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String(name), ParameterVersion: aws.Int64(9), Labels: []string{"x"}})
		wantErr[*types.ParameterVersionNotFound](t, err)
		_, err = c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/hl/none"), Labels: []string{"x"}})
		wantErr[*types.ParameterNotFound](t, err)
		_, err = c.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/hl/none")})
		wantErr[*types.ParameterNotFound](t, err)
	})
	t.Run("Unlabel", func(t *testing.T) {
		out := must[*ssm.UnlabelParameterVersionOutput](t)(c.UnlabelParameterVersion(ctx, &ssm.UnlabelParameterVersionInput{
			Name: aws.String(name), ParameterVersion: aws.Int64(3), Labels: []string{"blue", "not-there"}}))
		if !slices.Equal(out.RemovedLabels, []string{"blue"}) || !slices.Equal(out.InvalidLabels, []string{"not-there"}) {
			t.Fatalf("unlabel: %+v", out)
		}
		_, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name + ":blue")})
		wantErr[*types.ParameterNotFound](t, err)
	})
	t.Run("ErrHistoryMaxResults", func(t *testing.T) {
		_, err := c.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String(name), MaxResults: aws.Int32(51)})
		wantValidation(t, err, "'maxResults'", "less than or equal to 50")
	})
}

func TestSSMMaxVersions(t *testing.T) {
	s := MustOpen(t)
	c := MustSSM(t, s)
	ctx := context.Background()
	const name = "/mv/p"
	for i := 1; i <= vane.MaxVersions; i++ {
		put(t, c, name, fmt.Sprint(i))
	}
	must[*ssm.LabelParameterVersionOutput](t)(c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String(name), ParameterVersion: aws.Int64(1), Labels: []string{"keep"}}))
	_, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String("101"), Overwrite: aws.Bool(true)})
	wantErr[*types.ParameterMaxVersionLimitExceeded](t, err)

	// Moving the label off the oldest version lets the write drop it.
	must[*ssm.LabelParameterVersionOutput](t)(c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String(name), ParameterVersion: aws.Int64(50), Labels: []string{"keep"}}))
	if out := put(t, c, name, "101"); out.Version != 101 {
		t.Fatalf("version %d, want 101", out.Version)
	}
	var versions []int64
	pg := ssm.NewGetParameterHistoryPaginator(c, &ssm.GetParameterHistoryInput{Name: aws.String(name)})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range out.Parameters {
			versions = append(versions, p.Version)
		}
	}
	if len(versions) != vane.MaxVersions || versions[0] != 2 || versions[len(versions)-1] != 101 {
		t.Fatalf("kept %d versions, %d to %d; want 100, 2 to 101", len(versions), versions[0], versions[len(versions)-1])
	}
	_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name + ":1")})
	wantErr[*types.ParameterVersionNotFound](t, err)
}

func TestSSMTags(t *testing.T) {
	s := MustOpen(t)
	c := MustSSM(t, s)
	ctx := context.Background()
	const name = "/tg/p"
	tag := func(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }
	list := func(t *testing.T) []string {
		t.Helper()
		out := must[*ssm.ListTagsForResourceOutput](t)(c.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String(name)}))
		var got []string
		for _, t := range out.TagList {
			got = append(got, aws.ToString(t.Key)+"="+aws.ToString(t.Value))
		}
		return got
	}
	put(t, c, name, "v", func(in *ssm.PutParameterInput) { in.Overwrite, in.Tags = nil, []types.Tag{tag("team", "core")} })
	if got := list(t); !slices.Equal(got, []string{"team=core"}) {
		t.Fatalf("tags %q", got)
	}
	must[*ssm.AddTagsToResourceOutput](t)(c.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String(name),
		Tags: []types.Tag{tag("env", "prod"), tag("team", "edge")}}))
	if got := list(t); !slices.Equal(got, []string{"env=prod", "team=edge"}) {
		t.Fatalf("tags %q", got)
	}
	must[*ssm.RemoveTagsFromResourceOutput](t)(c.RemoveTagsFromResource(ctx, &ssm.RemoveTagsFromResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String(name),
		TagKeys: []string{"env", "absent"}}))
	if got := list(t); !slices.Equal(got, []string{"team=edge"}) {
		t.Fatalf("tags %q", got)
	}

	t.Run("ErrTooManyTagsError", func(t *testing.T) {
		var tags []types.Tag
		for i := 0; i < vane.MaxTagsPerResource; i++ {
			tags = append(tags, tag(fmt.Sprintf("k%02d", i), "v"))
		}
		_, err := c.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String(name), Tags: tags})
		wantErr[*types.TooManyTagsError](t, err)
	})
	t.Run("ErrInvalidResourceId", func(t *testing.T) {
		_, err := c.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/tg/none"), Tags: []types.Tag{tag("a", "b")}})
		wantErr[*types.InvalidResourceId](t, err)
		_, err = c.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/tg/none")})
		wantErr[*types.InvalidResourceId](t, err)
		_, err = c.RemoveTagsFromResource(ctx, &ssm.RemoveTagsFromResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/tg/none"), TagKeys: []string{"a"}})
		wantErr[*types.InvalidResourceId](t, err)
	})
	t.Run("ErrInvalidResourceType", func(t *testing.T) {
		_, err := c.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: types.ResourceTypeForTaggingDocument, ResourceId: aws.String(name)})
		wantErr[*types.InvalidResourceType](t, err)
		_, err = c.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: "Bucket", ResourceId: aws.String(name)})
		wantValidation(t, err, "'resourceType'", "enum value set")
	})
	t.Run("ErrTagsWithOverwrite", func(t *testing.T) {
		_, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String("v2"), Overwrite: aws.Bool(true), Tags: []types.Tag{tag("a", "b")}})
		wantValidation(t, err, "overwrite")
	})
	t.Run("ErrTooManyTagsInRequest", func(t *testing.T) {
		tags := make([]types.Tag, vane.MaxTagsPerRequest+1)
		for i := range tags {
			tags[i] = tag(fmt.Sprintf("k%d", i), "v")
		}
		_, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/tg/many"), Value: aws.String("v"), Type: types.ParameterTypeString, Tags: tags})
		wantValidation(t, err, "1001 tags", "1000")
	})
}

func TestSSMPutErrors(t *testing.T) {
	s := MustOpen(t)
	c := MustSSM(t, s)
	ctx := context.Background()
	putErr := func(name, value string, opts ...func(*ssm.PutParameterInput)) error {
		in := &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value), Type: types.ParameterTypeString}
		for _, o := range opts {
			o(in)
		}
		_, err := c.PutParameter(ctx, in)
		return err
	}
	t.Run("ErrHierarchyLevelLimitExceeded", func(t *testing.T) {
		err := putErr(strings.Repeat("/l", vane.MaxHierarchyLevels+1), "v")
		wantErr[*types.HierarchyLevelLimitExceededException](t, err)
		if err := putErr(strings.Repeat("/l", vane.MaxHierarchyLevels), "v"); err != nil {
			t.Fatalf("15 levels: %v", err)
		}
	})
	t.Run("ErrParameterPatternMismatch", func(t *testing.T) {
		err := putErr("/pe/digits", "abc", func(in *ssm.PutParameterInput) { in.AllowedPattern = aws.String("^[0-9]+$") })
		wantErr[*types.ParameterPatternMismatchException](t, err)
	})
	t.Run("ErrInvalidAllowedPattern", func(t *testing.T) {
		err := putErr("/pe/re", "abc", func(in *ssm.PutParameterInput) { in.AllowedPattern = aws.String("[") })
		wantErr[*types.InvalidAllowedPatternException](t, err)
	})
	t.Run("ErrUnsupportedParameterType", func(t *testing.T) {
		err := putErr("/pe/type", "abc", func(in *ssm.PutParameterInput) { in.Type = "Bogus" })
		wantErr[*types.UnsupportedParameterType](t, err)
	})
	t.Run("ErrReservedName", func(t *testing.T) {
		wantErr[*types.AccessDeniedException](t, putErr("/aws/x", "v"))
		wantValidation(t, putErr("ssm-thing", "v"), "reserved prefix")
	})
	t.Run("ErrPolicies", func(t *testing.T) {
		withPolicies := func(tier types.ParameterTier, pol string) func(*ssm.PutParameterInput) {
			return func(in *ssm.PutParameterInput) { in.Tier, in.Policies = tier, aws.String(pol) }
		}
		exp := `{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2030-01-01T00:00:00.000Z"}}`
		wantValidation(t, putErr("/pe/std", "v", withPolicies(types.ParameterTierStandard, "["+exp+"]")), "Advanced tier")
		wantErr[*types.InvalidPolicyTypeException](t, putErr("/pe/type", "v", withPolicies(types.ParameterTierAdvanced,
			`[{"Type":"Explode","Version":"1.0","Attributes":{}}]`)))
		wantErr[*types.InvalidPolicyAttributeException](t, putErr("/pe/attr", "v", withPolicies(types.ParameterTierAdvanced,
			`[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"next week"}}]`)))
		wantErr[*types.InvalidPolicyAttributeException](t, putErr("/pe/unit", "v", withPolicies(types.ParameterTierAdvanced,
			`[{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"3","Unit":"Weeks"}}]`)))
		wantErr[*types.IncompatiblePolicyException](t, putErr("/pe/twice", "v", withPolicies(types.ParameterTierAdvanced, "["+exp+","+exp+"]")))
		wantErr[*types.IncompatiblePolicyException](t, putErr("/pe/alone", "v", withPolicies(types.ParameterTierAdvanced,
			`[{"Type":"ExpirationNotification","Version":"1.0","Attributes":{"Before":"3","Unit":"Days"}}]`)))
		eleven := "[" + strings.TrimSuffix(strings.Repeat(exp+",", 11), ",") + "]"
		wantErr[*types.PoliciesLimitExceededException](t, putErr("/pe/many", "v", withPolicies(types.ParameterTierAdvanced, eleven)))
		if err := putErr("/pe/nopolicy", "v", func(in *ssm.PutParameterInput) { in.Policies = aws.String("[]") }); err != nil {
			t.Fatalf("empty policy list: %v", err)
		}
	})
	t.Run("ErrDescriptionTooLong", func(t *testing.T) {
		err := putErr("/pe/desc", "v", func(in *ssm.PutParameterInput) { in.Description = aws.String(strings.Repeat("d", 1025)) })
		wantValidation(t, err, "description", "1024")
	})
	t.Run("ErrKeyIDForString", func(t *testing.T) {
		wantValidation(t, putErr("/pe/key", "v", func(in *ssm.PutParameterInput) { in.KeyId = aws.String("alias/x") }), "key id")
		wantValidation(t, putErr("/pe/key", "v", func(in *ssm.PutParameterInput) {
			in.Type, in.KeyId = types.ParameterTypeSecureString, aws.String("alias/bad key")
		}), "'keyId'", "pattern")
	})
	t.Run("Tiers", func(t *testing.T) {
		big := strings.Repeat("x", vane.MaxStandardValueLength+1)
		wantValidation(t, putErr("/pe/big", big), "4096")
		out := must[*ssm.PutParameterOutput](t)(c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/pe/big"), Value: aws.String(big), Type: types.ParameterTypeString, Tier: types.ParameterTierIntelligentTiering}))
		if out.Tier != types.ParameterTierAdvanced {
			t.Fatalf("Intelligent-Tiering with %d characters: tier %q", len(big), out.Tier)
		}
		wantValidation(t, putErr("/pe/big", "small", func(in *ssm.PutParameterInput) { in.Overwrite, in.Tier = aws.Bool(true), types.ParameterTierStandard }), "Advanced")
	})
}

func TestSSMDeleteParameters(t *testing.T) {
	s := MustOpen(t)
	c := MustSSM(t, s)
	ctx := context.Background()
	for _, n := range []string{"/del/a", "/del/b", "/del/c"} {
		put(t, c, n, "v")
	}
	must[*ssm.DeleteParameterOutput](t)(c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("/del/a")}))
	_, err := c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("/del/a")})
	wantErr[*types.ParameterNotFound](t, err)

	out := must[*ssm.DeleteParametersOutput](t)(c.DeleteParameters(ctx, &ssm.DeleteParametersInput{Names: []string{"/del/b", "/del/c", "/del/missing", "/del/b", "bad!"}}))
	if !slices.Equal(out.DeletedParameters, []string{"/del/b", "/del/c"}) || !slices.Equal(out.InvalidParameters, []string{"/del/missing", "bad!"}) {
		t.Fatalf("deleted %q invalid %q", out.DeletedParameters, out.InvalidParameters)
	}
	_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/del/c")})
	wantErr[*types.ParameterNotFound](t, err)

	names := make([]string, 11)
	for i := range names {
		names[i] = fmt.Sprintf("/del/n%d", i)
	}
	_, err = c.DeleteParameters(ctx, &ssm.DeleteParametersInput{Names: names})
	wantValidation(t, err, "'names'", "less than or equal to 10")
}

func TestSSMInvalidNextToken(t *testing.T) {
	s := MustOpen(t)
	c := MustSSM(t, s)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		put(t, c, fmt.Sprintf("/nt/p%d", i), "v")
	}
	out := must[*ssm.GetParametersByPathOutput](t)(c.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/nt"), MaxResults: aws.Int32(1)}))
	token := aws.ToString(out.NextToken)
	if token == "" {
		t.Fatal("no NextToken")
	}
	next := must[*ssm.GetParametersByPathOutput](t)(c.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/nt"), MaxResults: aws.Int32(1), NextToken: out.NextToken}))
	if aws.ToString(next.Parameters[0].Name) != "/nt/p1" {
		t.Fatalf("second page %+v", next.Parameters)
	}

	// A token is "V" and base64url: the prefix keeps it from beginning
	// with "-", which the aws CLI would read as an option.
	if !strings.HasPrefix(token, "V") {
		t.Fatalf("token %q does not begin with V", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(token[1:])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 1
	for name, in := range map[string]*ssm.GetParametersByPathInput{
		"Modified":   {Path: aws.String("/nt"), NextToken: aws.String("V" + base64.RawURLEncoding.EncodeToString(b))},
		"NoPrefix":   {Path: aws.String("/nt"), NextToken: aws.String(token[1:])},
		"OtherPath":  {Path: aws.String("/nt/"), NextToken: aws.String(token)},
		"Recursive":  {Path: aws.String("/nt"), Recursive: aws.Bool(true), NextToken: aws.String(token)},
		"Garbage":    {Path: aws.String("/nt"), NextToken: aws.String("not a token!")},
		"StoreToken": {Path: aws.String("/nt"), NextToken: aws.String(vane.EncodeToken("/nt/p0"))},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.GetParametersByPath(ctx, in)
			wantErr[*types.InvalidNextToken](t, err)
		})
	}
	t.Run("OtherOperation", func(t *testing.T) {
		_, err := c.DescribeParameters(ctx, &ssm.DescribeParametersInput{NextToken: aws.String(token)})
		wantErr[*types.InvalidNextToken](t, err)
	})
	t.Run("OtherServer", func(t *testing.T) {
		other := MustOpen(t)
		oc := MustSSM(t, other)
		for i := 0; i < 3; i++ {
			put(t, oc, fmt.Sprintf("/nt/p%d", i), "v")
		}
		_, err := oc.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/nt"), MaxResults: aws.Int32(1), NextToken: aws.String(token)})
		wantErr[*types.InvalidNextToken](t, err)
	})
}

// prefixCipher is a test vane.Cipher: a sealed value is "sealed:" and the
// base64 of the plaintext. Keys whose id holds "unknown" do not exist.
type prefixCipher struct{}

const sealedPrefix = "sealed:"

func (prefixCipher) Seal(_ context.Context, keyID, plaintext string) (string, error) {
	if strings.Contains(keyID, "unknown") {
		return "", vane.DetailErrorf(vane.EINVALID, vane.DetailInvalidKeyID, "key %q does not exist", keyID)
	}
	return sealedPrefix + base64.StdEncoding.EncodeToString([]byte(plaintext)), nil
}

func (prefixCipher) Open(_ context.Context, sealed string) (string, error) {
	b64, ok := strings.CutPrefix(sealed, sealedPrefix)
	b, err := base64.StdEncoding.DecodeString(b64)
	if !ok || err != nil {
		return "", vane.Errorf(vane.EINVALID, "value is not sealed")
	}
	return string(b), nil
}

// sealingStore seals SecureString values with Cipher on Put, as a store
// encrypting at rest does, except for the name Unsealed.
type sealingStore struct {
	vane.Store
	Cipher   vane.Cipher
	Unsealed string
}

func (s *sealingStore) Put(ctx context.Context, in *vane.PutInput) (*vane.Parameter, error) {
	typ, keyID := in.Type, in.KeyID
	if cur, err := s.Store.Get(ctx, in.Name); err == nil && cur.Type == vane.TypeSecureString {
		// An overwrite may leave out the type and key.
		if typ == "" {
			typ = cur.Type
		}
		if keyID == "" {
			keyID = cur.KeyID
		}
	}
	if typ == vane.TypeSecureString && in.Name != s.Unsealed {
		if keyID == "" {
			keyID = vane.DefaultKeyID
		}
		sealed, err := s.Cipher.Seal(ctx, keyID, in.Value)
		if err != nil {
			return nil, err
		}
		cp := *in
		cp.Value = sealed
		in = &cp
	}
	return s.Store.Put(ctx, in)
}

func TestSSMSecureString(t *testing.T) {
	s := MustOpen(t, func(s *vanehttp.Server) {
		s.Cipher = prefixCipher{}
		s.Store = &sealingStore{Store: s.Store, Cipher: prefixCipher{}, Unsealed: "/ss/unsealed"}
	})
	c := MustSSM(t, s, func(o *ssm.Options) { o.RetryMaxAttempts = 1 })
	ctx := context.Background()
	secure := func(in *ssm.PutParameterInput) { in.Type = types.ParameterTypeSecureString }
	put(t, c, "/ss/pw", "hunter2", secure)
	put(t, c, "/ss/custom", "k", secure, func(in *ssm.PutParameterInput) { in.KeyId = aws.String("alias/custom") })
	put(t, c, "/ss/plain", "visible")
	get := func(t *testing.T, name string, decrypt bool) string {
		t.Helper()
		p := must[*ssm.GetParameterOutput](t)(c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(decrypt)})).Parameter
		return aws.ToString(p.Value)
	}

	t.Run("WithoutDecryption", func(t *testing.T) {
		if v := get(t, "/ss/pw", false); !strings.HasPrefix(v, sealedPrefix) || strings.Contains(v, "hunter2") {
			t.Fatalf("value %q, want the sealed form", v)
		}
	})
	t.Run("WithDecryption", func(t *testing.T) {
		if v := get(t, "/ss/pw", true); v != "hunter2" {
			t.Fatalf("value %q", v)
		}
		if v := get(t, "/ss/plain", true); v != "visible" {
			t.Fatalf("String with decryption: %q", v)
		}
		gp := must[*ssm.GetParametersOutput](t)(c.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"/ss/pw", "/ss/custom"}, WithDecryption: aws.Bool(true)}))
		if len(gp.Parameters) != 2 || aws.ToString(gp.Parameters[0].Value) != "k" || aws.ToString(gp.Parameters[1].Value) != "hunter2" {
			t.Fatalf("GetParameters: %+v", gp.Parameters)
		}
		bp := must[*ssm.GetParametersByPathOutput](t)(c.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/ss"), WithDecryption: aws.Bool(true)}))
		for _, p := range bp.Parameters {
			if strings.HasPrefix(aws.ToString(p.Value), sealedPrefix) {
				t.Fatalf("GetParametersByPath: %s still sealed", aws.ToString(p.Name))
			}
		}
		put(t, c, "/ss/pw", "hunter3", secure)
		h := must[*ssm.GetParameterHistoryOutput](t)(c.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/ss/pw"), WithDecryption: aws.Bool(true)}))
		if len(h.Parameters) != 2 || aws.ToString(h.Parameters[0].Value) != "hunter2" || aws.ToString(h.Parameters[1].Value) != "hunter3" {
			t.Fatalf("history: %+v", h.Parameters)
		}
		if aws.ToString(h.Parameters[0].KeyId) != vane.DefaultKeyID {
			t.Fatalf("history KeyId %q", aws.ToString(h.Parameters[0].KeyId))
		}
		h = must[*ssm.GetParameterHistoryOutput](t)(c.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/ss/pw")}))
		if !strings.HasPrefix(aws.ToString(h.Parameters[0].Value), sealedPrefix) {
			t.Fatalf("history without decryption: %q", aws.ToString(h.Parameters[0].Value))
		}
	})
	t.Run("KeyId", func(t *testing.T) {
		d := must[*ssm.DescribeParametersOutput](t)(c.DescribeParameters(ctx, &ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{
			{Key: aws.String("Type"), Values: []string{"SecureString"}}}}))
		var keys []string
		for _, p := range d.Parameters {
			keys = append(keys, aws.ToString(p.Name)+"="+aws.ToString(p.KeyId))
		}
		if !slices.Equal(keys, []string{"/ss/custom=alias/custom", "/ss/pw=alias/aws/ssm"}) {
			t.Fatalf("key ids %q", keys)
		}
	})
	t.Run("ErrInvalidKeyId", func(t *testing.T) {
		_, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/ss/k"), Value: aws.String("v"), Type: types.ParameterTypeSecureString, KeyId: aws.String("alias/unknown")})
		wantErr[*types.InvalidKeyId](t, err)
	})
	t.Run("ErrValueDoesNotOpen", func(t *testing.T) {
		put(t, c, "/ss/unsealed", "oops", secure)
		_, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/ss/unsealed"), WithDecryption: aws.Bool(true)})
		e := wantErr[*types.InternalServerError](t, err)
		if e.ErrorMessage() != "Internal error." {
			t.Fatalf("message %q", e.ErrorMessage())
		}
		if !strings.Contains(s.Logs.String(), "value is not sealed") {
			t.Fatalf("the cause was not logged:\n%s", s.Logs.String())
		}
	})
}

func TestSSMSecureStringWithoutCipher(t *testing.T) {
	s := MustOpen(t)
	c := MustSSM(t, s)
	put(t, c, "/nc/pw", "as-stored", func(in *ssm.PutParameterInput) { in.Type = types.ParameterTypeSecureString })
	for _, decrypt := range []bool{false, true} {
		p := must[*ssm.GetParameterOutput](t)(c.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/nc/pw"), WithDecryption: aws.Bool(decrypt)})).Parameter
		if aws.ToString(p.Value) != "as-stored" {
			t.Fatalf("decrypt=%t: value %q", decrypt, aws.ToString(p.Value))
		}
	}
}

func TestSSMUnavailable(t *testing.T) {
	var calls atomic.Int32
	s := MustOpen(t, func(s *vanehttp.Server) {
		s.Store = &fakeStore{Store: s.Store, GetFn: func(context.Context, string) (*vane.Parameter, error) {
			calls.Add(1)
			return nil, vane.Errorf(vane.EUNAVAILABLE, "the database is not reachable")
		}}
	})
	c := MustSSM(t, s, func(o *ssm.Options) { o.RetryMaxAttempts = 2 })
	_, err := c.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/u/p")})
	wantErr[*types.InternalServerError](t, err)
	if n := calls.Load(); n != 2 {
		t.Fatalf("%d attempts, want 2: a 503 must be retried", n)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorFault() != smithy.FaultServer {
		t.Fatalf("fault %v, want server", ae)
	}
}

// TestSSMPolicies: policies round-trip through PutParameter,
// DescribeParameters and GetParameterHistory as AWS shows them, and an
// overwrite without Policies keeps them.
func TestSSMPolicies(t *testing.T) {
	s := MustOpen(t)
	c := MustSSM(t, s)
	ctx := context.Background()
	pol := `[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2030-01-01T00:00:00.000Z"}},
		{"Type":"ExpirationNotification","Version":"1.0","Attributes":{"Before":"15","Unit":"Days"}},
		{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"1","Unit":"Hours"}}]`
	out, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/pol/db"), Value: aws.String("v1"), Type: types.ParameterTypeString,
		Tier: types.ParameterTierAdvanced, Policies: aws.String(pol)})
	if err != nil || out.Tier != types.ParameterTierAdvanced {
		t.Fatalf("put: %v %+v", err, out)
	}
	if _, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/pol/db"), Value: aws.String("v2"), Overwrite: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeParameters(ctx, &ssm.DescribeParametersInput{})
	if err != nil || len(d.Parameters) != 1 {
		t.Fatalf("describe: %v %+v", err, d)
	}
	got := d.Parameters[0].Policies
	if len(got) != 3 {
		t.Fatalf("policies after an overwrite without them: %+v", got)
	}
	for i, want := range []string{"Expiration", "ExpirationNotification", "NoChangeNotification"} {
		if aws.ToString(got[i].PolicyType) != want || aws.ToString(got[i].PolicyStatus) != "Pending" ||
			!strings.Contains(aws.ToString(got[i].PolicyText), `"Type":"`+want+`"`) {
			t.Errorf("policy %d: %s %s %s", i, aws.ToString(got[i].PolicyType), aws.ToString(got[i].PolicyStatus), aws.ToString(got[i].PolicyText))
		}
	}
	h, err := c.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/pol/db")})
	if err != nil || len(h.Parameters) != 2 || len(h.Parameters[0].Policies) != 3 {
		t.Fatalf("history: %v %+v", err, h)
	}
}
