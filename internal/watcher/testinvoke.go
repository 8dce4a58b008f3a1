package watcher

import (
	"fmt"

	"github.com/archway-gateway/archway/internal/model"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// RouteAPI converts an API's record and one of its routes with the route's
// integration, as they are defined now (deployed or not), into a model API
// whose one stage, named stage with the variables vars, serves a
// deployment of just that route, deploymentID. It is what a test
// invocation runs a request through: converted exactly as a deployment of
// the same records would be.
func RouteAPI(api *adminv1.Api, route *adminv1.Route, in *adminv1.Integration, stage string, vars map[string]string, deploymentID string) (*model.API, error) {
	d, err := convertDeployment(deploymentID, &adminv1.Deployment{
		Routes: []*adminv1.Route{route}, Integrations: []*adminv1.Integration{in}, Models: api.GetModels(),
	})
	if err != nil {
		return nil, err
	}
	st := &model.Stage{Name: stage, Variables: cloneMap(vars), Deployment: d}
	m, err := convertAPI(api.GetId(), api, []*model.Stage{st})
	if err != nil {
		return nil, fmt.Errorf("api %q: %w", api.GetId(), err)
	}
	return m, nil
}
