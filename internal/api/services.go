package api

import (
	"context"
	"net/http"
)

// Autocomplete lists for the search UI and CLI. Each takes an optional
// start/end (default: the last Settings.DefaultLookback, 24h) so that a list
// stays short and fast on a store with a week of data.

// GET /api/v1/services?start=&end=
func (a *API) listServices(ctx context.Context, r *http.Request) (any, error) {
	v := r.URL.Query()
	if err := checkParams(v, []string{"start", "end"}, ""); err != nil {
		return nil, err
	}
	tr, err := parseRange(v, a.set.Now(), a.set.DefaultLookback)
	if err != nil {
		return nil, err
	}
	list, err := a.r.Services(ctx, tr)
	if err != nil {
		return nil, err
	}
	return ServicesResponse{Services: nonNil(list)}, nil
}

// GET /api/v1/operations?service=&start=&end= (no service: every service's).
func (a *API) listOperations(ctx context.Context, r *http.Request) (any, error) {
	v := r.URL.Query()
	if err := checkParams(v, []string{"service", "start", "end"}, ""); err != nil {
		return nil, err
	}
	tr, err := parseRange(v, a.set.Now(), a.set.DefaultLookback)
	if err != nil {
		return nil, err
	}
	list, err := a.r.Operations(ctx, v.Get("service"), tr)
	if err != nil {
		return nil, err
	}
	return OperationsResponse{Operations: nonNil(list)}, nil
}
