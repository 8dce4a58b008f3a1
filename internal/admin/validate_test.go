package admin

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// fieldsOf returns the violated field paths, in order.
func fieldsOf(v *violations) []string {
	var out []string
	for _, fv := range v.list {
		out = append(out, fv.GetField())
	}
	return out
}

func TestValidators(t *testing.T) {
	long := strings.Repeat("a", 129)
	tags51 := map[string]string{}
	for i := range 51 {
		tags51["k"+strconv.Itoa(i)] = "v"
	}
	vars101 := map[string]string{}
	for i := range 101 {
		vars101["v"+strconv.Itoa(i)] = "v"
	}
	tests := map[string]struct {
		check func(v *violations)
		want  []string
	}{
		"good name":          {func(v *violations) { v.name("n", "pets.v1_a-b") }, nil},
		"empty name":         {func(v *violations) { v.name("n", "") }, []string{"n"}},
		"long name":          {func(v *violations) { v.name("n", long) }, []string{"n"}},
		"name with slash":    {func(v *violations) { v.name("n", "a/b") }, []string{"n"}},
		"name with space":    {func(v *violations) { v.name("n", "a b") }, []string{"n"}},
		"good stage":         {func(v *violations) { v.stageName("s", "prod_1-a") }, nil},
		"default stage":      {func(v *violations) { v.stageName("s", "$default") }, nil},
		"stage with dot":     {func(v *violations) { v.stageName("s", "v1.0") }, []string{"s"}},
		"stage with dollar":  {func(v *violations) { v.stageName("s", "$prod") }, []string{"s"}},
		"long description":   {func(v *violations) { v.description("d", strings.Repeat("é", 513)) }, []string{"d"}},
		"max description":    {func(v *violations) { v.description("d", strings.Repeat("a", 1024)) }, nil},
		"invalid utf8":       {func(v *violations) { v.description("d", "\xff") }, []string{"d"}},
		"good tags":          {func(v *violations) { v.tags("t", map[string]string{"team": "pets", "e": ""}) }, nil},
		"too many tags":      {func(v *violations) { v.tags("t", tags51) }, []string{"t"}},
		"reserved tag":       {func(v *violations) { v.tags("t", map[string]string{"archway:x": "v"}) }, []string{`t["archway:x"]`}},
		"empty tag key":      {func(v *violations) { v.tags("t", map[string]string{"": "v"}) }, []string{`t[""]`}},
		"long tag key":       {func(v *violations) { v.tags("t", map[string]string{long: "v"}) }, []string{`t["` + long + `"]`}},
		"long tag value":     {func(v *violations) { v.tags("t", map[string]string{"k": strings.Repeat("v", 257)}) }, []string{`t["k"]`}},
		"good variables":     {func(v *violations) { v.variables("v", map[string]string{"host_1": "a.b:8080/x?y=z&w,#~-", "e": ""}) }, nil},
		"too many variables": {func(v *violations) { v.variables("v", vars101) }, []string{"v"}},
		"bad variable name":  {func(v *violations) { v.variables("v", map[string]string{"my-var": "x"}) }, []string{`v["my-var"]`}},
		"long variable name": {func(v *violations) { v.variables("v", map[string]string{strings.Repeat("a", 65): "x"}) }, []string{`v["` + strings.Repeat("a", 65) + `"]`}},
		"bad variable value": {func(v *violations) { v.variables("v", map[string]string{"a": "x y", "b": "é"}) }, []string{`v["a"]`, `v["b"]`}},
		"long variable":      {func(v *violations) { v.variables("v", map[string]string{"a": strings.Repeat("x", 513)}) }, []string{`v["a"]`}},
		"good method":        {func(v *violations) { v.method("m", "ANY") }, nil},
		"lower method":       {func(v *violations) { v.method("m", "get") }, []string{"m"}},
		"bad path":           {func(v *violations) { v.path("p", "/pets/{id") }, []string{"p"}},
		"good id":            {func(v *violations) { v.id("i", "abc123xyz0") }, nil},
		"id with slash":      {func(v *violations) { v.id("i", "abc/23xyz0") }, []string{"i"}},
		"short id":           {func(v *violations) { v.id("i", "abc") }, []string{"i"}},
		"page size 0":        {func(v *violations) { v.pageSize("s", 0) }, nil},
		"page size 1000":     {func(v *violations) { v.pageSize("s", 1000) }, nil},
		"page size 1001":     {func(v *violations) { v.pageSize("s", 1001) }, []string{"s"}},
		"page size -1":       {func(v *violations) { v.pageSize("s", -1) }, []string{"s"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			v := &violations{request: "Test"}
			tc.check(v)
			if got := fieldsOf(v); !slices.Equal(got, tc.want) {
				t.Errorf("violations = %q, want %q (%v)", got, tc.want, v.list)
			}
		})
	}
}

func TestIntegrationKind(t *testing.T) {
	tests := map[string]struct {
		hp   *adminv1.HttpProxyIntegration
		mock *adminv1.MockIntegration
		want []string
	}{
		"none": {want: []string{"i.kind"}},
		"proxy": {hp: &adminv1.HttpProxyIntegration{
			Uri: "https://pets.example.com:8443/v1/pets/{petId}?q={proxy}", Method: "POST",
			Timeout: durationpb.New(300 * time.Second),
		}},
		"stage variable host": {hp: &adminv1.HttpProxyIntegration{Uri: "http://${stageVariables.host}/${stageVariables.base_path}/{proxy}"}},
		"stage variable port": {hp: &adminv1.HttpProxyIntegration{Uri: "http://backend:${stageVariables.port}/"}, want: []string{"i.http_proxy.uri"}},
		"relative uri":        {hp: &adminv1.HttpProxyIntegration{Uri: "/pets"}, want: []string{"i.http_proxy.uri"}},
		"empty uri":           {hp: &adminv1.HttpProxyIntegration{}, want: []string{"i.http_proxy.uri"}},
		"ftp uri":             {hp: &adminv1.HttpProxyIntegration{Uri: "ftp://example.com/"}, want: []string{"i.http_proxy.uri"}},
		"no host":             {hp: &adminv1.HttpProxyIntegration{Uri: "http:///pets"}, want: []string{"i.http_proxy.uri"}},
		"userinfo":            {hp: &adminv1.HttpProxyIntegration{Uri: "http://u:p@example.com/"}, want: []string{"i.http_proxy.uri"}},
		"fragment":            {hp: &adminv1.HttpProxyIntegration{Uri: "http://example.com/#x"}, want: []string{"i.http_proxy.uri"}},
		"bad port":            {hp: &adminv1.HttpProxyIntegration{Uri: "http://example.com:70000/"}, want: []string{"i.http_proxy.uri"}},
		"param in host":       {hp: &adminv1.HttpProxyIntegration{Uri: "http://{host}/"}, want: []string{"i.http_proxy.uri"}},
		"unclosed param":      {hp: &adminv1.HttpProxyIntegration{Uri: "http://h/{id"}, want: []string{"i.http_proxy.uri"}},
		"stray brace":         {hp: &adminv1.HttpProxyIntegration{Uri: "http://h/id}"}, want: []string{"i.http_proxy.uri"}},
		"bad param":           {hp: &adminv1.HttpProxyIntegration{Uri: "http://h/{1d}"}, want: []string{"i.http_proxy.uri"}},
		"other variable":      {hp: &adminv1.HttpProxyIntegration{Uri: "http://h/${context.path}"}, want: []string{"i.http_proxy.uri"}},
		"bad variable name":   {hp: &adminv1.HttpProxyIntegration{Uri: "http://h/${stageVariables.a-b}"}, want: []string{"i.http_proxy.uri"}},
		"unclosed variable":   {hp: &adminv1.HttpProxyIntegration{Uri: "http://h/${stageVariables.a"}, want: []string{"i.http_proxy.uri"}},
		"long uri":            {hp: &adminv1.HttpProxyIntegration{Uri: "http://h/" + strings.Repeat("a", 2048)}, want: []string{"i.http_proxy.uri"}},
		"everything wrong": {hp: &adminv1.HttpProxyIntegration{
			Uri: "mailto:x", Method: "ANY", Timeout: durationpb.New(10 * time.Millisecond),
		}, want: []string{"i.http_proxy.uri", "i.http_proxy.method", "i.http_proxy.timeout"}},
		"lower method":   {hp: &adminv1.HttpProxyIntegration{Uri: "http://h/", Method: "get"}, want: []string{"i.http_proxy.method"}},
		"long timeout":   {hp: &adminv1.HttpProxyIntegration{Uri: "http://h/", Timeout: durationpb.New(301 * time.Second)}, want: []string{"i.http_proxy.timeout"}},
		"invalid timout": {hp: &adminv1.HttpProxyIntegration{Uri: "http://h/", Timeout: &durationpb.Duration{Seconds: 1, Nanos: -1}}, want: []string{"i.http_proxy.timeout"}},
		"mock":           {mock: &adminv1.MockIntegration{StatusCode: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: "{}"}},
		"bad mock": {mock: &adminv1.MockIntegration{
			StatusCode: 600,
			Headers:    map[string]string{":status": "200", "X-A": "a\r\nb"},
			Body:       strings.Repeat("x", 64<<10+1),
		}, want: []string{"i.mock.status_code", `i.mock.headers[":status"]`, `i.mock.headers["X-A"]`, "i.mock.body"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			v := &violations{request: "Test"}
			v.integrationKind("i", integrationKinds{proxy: tc.hp, mock: tc.mock})
			if got := fieldsOf(v); !slices.Equal(got, tc.want) {
				t.Errorf("violations = %q, want %q (%v)", got, tc.want, v.list)
			}
		})
	}
}

func TestViolationsErr(t *testing.T) {
	v := newViolations(&adminv1.CreateRouteRequest{})
	if err := v.err(); err != nil {
		t.Fatalf("err() with no violations = %v", err)
	}
	v.path("route.path", "/pets/{id")
	v.method("route.method", "FETCH")
	err := v.err()
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.InvalidArgument {
		t.Fatalf("err() = %v, want InvalidArgument", err)
	}
	want := `invalid CreateRouteRequest: route.path: segment 2 "{id": a parameter must be a whole segment: {name} or {name+} (and 1 more)`
	if st.Message() != want {
		t.Errorf("message = %q\nwant %q", st.Message(), want)
	}
	var br *errdetails.BadRequest
	for _, d := range st.Details() {
		if b, ok := d.(*errdetails.BadRequest); ok {
			br = b
		}
	}
	if br == nil || len(br.GetFieldViolations()) != 2 || br.GetFieldViolations()[1].GetField() != "route.method" {
		t.Errorf("details = %v, want both violations", st.Details())
	}
}
