// Package s3 serves a local S3 through github.com/johannesboyne/gofakes3
// (in memory, path-style addressing) and adds bucket notifications: a
// successful PutObject, CopyObject, CompleteMultipartUpload or DeleteObject
// invokes the configured function asynchronously with an S3 event shaped as
// S3 sends it, carrying the request's x-amz-request-id in
// responseElements.
//
// Invoking is delegated to the InvokeFunction callback.
package s3

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/ariadnehq/ariadne/demo/localcloud/internal/httpsvc"
)

// Settings configures the service.
type Settings struct {
	Region    string // default us-east-1
	AccountID string // default 000000000000
	Addr      string // default 127.0.0.1:0
	Logger    *slog.Logger
	// InvokeFunction invokes a Lambda function ARN asynchronously.
	InvokeFunction func(ctx context.Context, functionARN string, payload []byte) error
}

// Notification invokes a function for matching object events.
type Notification struct {
	ID          string   // configurationId in the event
	Bucket      string   //
	FunctionARN string   //
	Events      []string // e.g. "s3:ObjectCreated:*" (default), "s3:ObjectRemoved:Delete"
	Prefix      string   // key filter
	Suffix      string   // key filter
}

// Service is a running local S3.
type Service struct {
	set      Settings
	backend  *s3mem.Backend
	faker    http.Handler
	srv      *httpsvc.Server
	endpoint string
	seq      atomic.Uint64

	mu    sync.Mutex
	rules []Notification
}

// New starts the service.
func New(ctx context.Context, set Settings) (*Service, error) {
	httpsvc.Defaults(&set.Region, &set.AccountID, &set.Addr, &set.Logger)
	backend := s3mem.New()
	faker := gofakes3.New(backend, gofakes3.WithRequestID(uint64(time.Now().UnixNano())))
	s := &Service{set: set, backend: backend, faker: faker.Server()}
	srv, err := httpsvc.Start(ctx, "s3", set.Addr, http.HandlerFunc(s.serveHTTP), set.Logger)
	if err != nil {
		return nil, err
	}
	s.srv, s.endpoint = srv, srv.Endpoint
	return s, nil
}

// Endpoint is the base URL for aws-sdk-go-v2's s3 client (use path style).
func (s *Service) Endpoint() string { return s.endpoint }

// Close stops the listener. Idempotent.
func (s *Service) Close() error {
	s.srv.Close()
	return nil
}

// CreateBucket creates a bucket if it does not exist.
func (s *Service) CreateBucket(name string) error {
	ok, err := s.backend.BucketExists(name)
	if err != nil || ok {
		return err
	}
	if err := s.backend.CreateBucket(name); err != nil {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	return nil
}

// AddNotification adds a bucket notification.
func (s *Service) AddNotification(n Notification) error {
	if n.Bucket == "" || n.FunctionARN == "" {
		return fmt.Errorf("add notification: bucket and function are required")
	}
	if len(n.Events) == 0 {
		n.Events = []string{"s3:ObjectCreated:*"}
	}
	if n.ID == "" {
		n.ID = "localcloud-" + n.Bucket
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = append(s.rules, n)
	return nil
}

// recorder captures the status and headers of gofakes3's response.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (s *Service) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{ResponseWriter: w}
	s.faker.ServeHTTP(rec, r)
	if rec.status != 0 && rec.status/100 != 2 {
		return
	}
	bucket, key, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if !ok || key == "" {
		return
	}
	q := r.URL.Query()
	var name string
	switch {
	case r.Method == http.MethodPut && (q.Has("partNumber") || q.Has("uploadId") || q.Has("tagging") || q.Has("acl")):
		return
	case r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "":
		name = "ObjectCreated:Copy"
	case r.Method == http.MethodPut:
		name = "ObjectCreated:Put"
	case r.Method == http.MethodPost && q.Has("uploadId"):
		name = "ObjectCreated:CompleteMultipartUpload"
	case r.Method == http.MethodDelete && !q.Has("uploadId"):
		name = "ObjectRemoved:Delete"
	default:
		return
	}
	s.notify(r, rec.Header(), bucket, key, name)
}

func (n Notification) matches(bucket, key, event string) bool {
	if n.Bucket != bucket || !strings.HasPrefix(key, n.Prefix) || !strings.HasSuffix(key, n.Suffix) {
		return false
	}
	for _, e := range n.Events {
		e = strings.TrimPrefix(e, "s3:")
		if e == event || (strings.HasSuffix(e, ":*") && strings.HasPrefix(event, strings.TrimSuffix(e, "*"))) {
			return true
		}
	}
	return false
}

func (s *Service) notify(r *http.Request, h http.Header, bucket, key, event string) {
	s.mu.Lock()
	var rules []Notification
	for _, n := range s.rules {
		if n.matches(bucket, key, event) {
			rules = append(rules, n)
		}
	}
	s.mu.Unlock()
	if len(rules) == 0 || s.set.InvokeFunction == nil {
		return
	}
	obj := object{Key: strings.ReplaceAll(url.QueryEscape(key), "%2F", "/"), Sequencer: fmt.Sprintf("%016X", s.seq.Add(1))}
	if strings.HasPrefix(event, "ObjectCreated") {
		if o, err := s.backend.HeadObject(bucket, key); err == nil {
			obj.Size = o.Size
			obj.ETag = hex.EncodeToString(o.Hash)
			obj.VersionID = string(o.VersionID)
		}
	}
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	for _, n := range rules {
		rec := record{
			EventVersion: "2.1", EventSource: "aws:s3", AWSRegion: s.set.Region,
			EventTime: time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), EventName: event,
			UserIdentity:      identity{PrincipalID: "AWS:AIDAJDPLRKLG7UEXAMPLE"},
			RequestParameters: map[string]string{"sourceIPAddress": ip},
			ResponseElements:  map[string]string{"x-amz-request-id": h.Get("x-amz-request-id"), "x-amz-id-2": h.Get("x-amz-id-2")},
			S3: entity{SchemaVersion: "1.0", ConfigurationID: n.ID, Object: obj,
				Bucket: bucketInfo{Name: bucket, OwnerIdentity: identity{PrincipalID: "A3NL1KOZZKExample"}, ARN: "arn:aws:s3:::" + bucket}},
		}
		payload, err := json.Marshal(map[string][]record{"Records": {rec}})
		if err != nil {
			continue
		}
		if err := s.set.InvokeFunction(context.WithoutCancel(r.Context()), n.FunctionARN, payload); err != nil {
			s.set.Logger.Warn("s3 notification failed", "bucket", bucket, "function", n.FunctionARN, "err", err)
		}
	}
}

// The S3 event notification record (event version 2.1), as S3 sends it.
type record struct {
	EventVersion      string            `json:"eventVersion"`
	EventSource       string            `json:"eventSource"`
	AWSRegion         string            `json:"awsRegion"`
	EventTime         string            `json:"eventTime"`
	EventName         string            `json:"eventName"`
	UserIdentity      identity          `json:"userIdentity"`
	RequestParameters map[string]string `json:"requestParameters"`
	ResponseElements  map[string]string `json:"responseElements"`
	S3                entity            `json:"s3"`
}

type identity struct {
	PrincipalID string `json:"principalId"`
}

type entity struct {
	SchemaVersion   string     `json:"s3SchemaVersion"`
	ConfigurationID string     `json:"configurationId"`
	Bucket          bucketInfo `json:"bucket"`
	Object          object     `json:"object"`
}

type bucketInfo struct {
	Name          string   `json:"name"`
	OwnerIdentity identity `json:"ownerIdentity"`
	ARN           string   `json:"arn"`
}

type object struct {
	Key       string `json:"key"`
	Size      int64  `json:"size,omitempty"`
	ETag      string `json:"eTag,omitempty"`
	VersionID string `json:"versionId,omitempty"`
	Sequencer string `json:"sequencer"`
}
