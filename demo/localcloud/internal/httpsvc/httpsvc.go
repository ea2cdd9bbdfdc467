// Package httpsvc is what the local cloud's AWS services (SQS, SNS, S3)
// share: the defaults of their common settings and the HTTP listener each
// serves its API on.
package httpsvc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Defaults fills the common settings left empty: region us-east-1, account
// 000000000000, a free port on 127.0.0.1, a logger that discards.
func Defaults(region, accountID, addr *string, logger **slog.Logger) {
	if *region == "" {
		*region = "us-east-1"
	}
	if *accountID == "" {
		*accountID = "000000000000"
	}
	if *addr == "" {
		*addr = "127.0.0.1:0"
	}
	if *logger == nil {
		*logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// Server is one service's running HTTP listener.
type Server struct {
	// Endpoint is the base URL clients use (http://host:port).
	Endpoint string

	srv       *http.Server
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// Start listens on addr and serves h until Close. Requests get a context
// that carries ctx's values but not its cancellation: the service decides
// when to stop, in Close.
func Start(ctx context.Context, name, addr string, h http.Handler, logger *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", name, err)
	}
	s := &Server{Endpoint: "http://" + ln.Addr().String()}
	s.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) }}
	s.wg.Go(func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error(name+" server stopped", "err", err)
		}
	})
	return s, nil
}

// Close stops accepting requests, gives those in flight two seconds, then
// closes their connections. Idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.srv.Shutdown(ctx)
		_ = s.srv.Close()
		s.wg.Wait()
	})
}
