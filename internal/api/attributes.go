package api

import (
	"context"
	"net/http"

	"github.com/ariadnehq/ariadne/internal/store"
)

// Attribute autocomplete: keys, then the values of one key. Same time range
// defaults as the service lists (services.go).

// GET /api/v1/attributes?prefix=&limit=&start=&end=
func (a *API) listAttributeKeys(ctx context.Context, r *http.Request) (any, error) {
	v := r.URL.Query()
	if err := checkParams(v, []string{"prefix", "limit", "start", "end"}, ""); err != nil {
		return nil, err
	}
	tr, err := parseRange(v, a.set.Now(), a.set.DefaultLookback)
	if err != nil {
		return nil, err
	}
	limit, err := parseLimit("limit", v.Get("limit"), a.set.ListLimit, store.MaxLimit)
	if err != nil {
		return nil, err
	}
	list, err := a.r.AttributeKeys(ctx, v.Get("prefix"), tr, limit)
	if err != nil {
		return nil, err
	}
	return AttributesResponse{Attributes: nonNil(list)}, nil
}

// GET /api/v1/attributes/{key}/values?prefix=&limit=&start=&end=
func (a *API) listAttributeValues(ctx context.Context, r *http.Request) (any, error) {
	v := r.URL.Query()
	if err := checkParams(v, []string{"prefix", "limit", "start", "end"}, ""); err != nil {
		return nil, err
	}
	key := r.PathValue("key")
	if key == "" {
		return nil, invalid("key", "empty attribute key")
	}
	tr, err := parseRange(v, a.set.Now(), a.set.DefaultLookback)
	if err != nil {
		return nil, err
	}
	limit, err := parseLimit("limit", v.Get("limit"), a.set.ListLimit, store.MaxLimit)
	if err != nil {
		return nil, err
	}
	list, err := a.r.AttributeValues(ctx, key, v.Get("prefix"), tr, limit)
	if err != nil {
		return nil, err
	}
	return ValuesResponse{Key: key, Values: nonNil(list)}, nil
}
