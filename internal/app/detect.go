package app

import (
	"context"

	"github.com/ariadnehq/ariadne/internal/alert"
	"github.com/ariadnehq/ariadne/internal/detect"
)

// newDetector builds the issue detectors' runner. Several nodes may run it
// against one store: each window's issues and watermark commit together by
// compare-and-set, so a window is counted once whoever runs it.
func (a *App) newDetector() *detect.Runner {
	lag := a.cfg.DetectLag
	if lag == 0 {
		lag = detect.NoLag
	}
	return detect.New(a.store, detect.Settings{
		Logger:       a.log.With("component", "detect"),
		Now:          a.now,
		Interval:     a.cfg.DetectInterval,
		Lag:          lag,
		ResolveAfter: a.cfg.ResolveAfter,
		Detectors:    detect.DetectorsWith(a.cfg.ColdStartPeriod),
	})
}

// runDetect is the API's "detect now".
func runDetect(r *detect.Runner) func(ctx context.Context) (int, int, error) {
	return func(ctx context.Context) (int, int, error) {
		res, err := r.RunOnce(ctx)
		return res.Windows, res.Occurrences, err
	}
}

// startDetection runs the detectors and the alerter in the background
// until shutdown begins; a zero interval disables either on this node.
func (a *App) startDetection(r *detect.Runner) {
	ctx, cancel := context.WithCancel(context.Background())
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		<-a.closed
		cancel()
	}()
	if a.cfg.DetectInterval > 0 {
		a.wg.Add(1)
		go func() { defer a.wg.Done(); r.Run(ctx) }()
	}
	if a.cfg.AlertInterval > 0 {
		al := alert.New(a.store, alert.Settings{
			Logger:   a.log.With("component", "alert"),
			Now:      a.now,
			Interval: a.cfg.AlertInterval,
			SMTP:     alert.SMTP{Addr: a.cfg.SMTPAddr, From: a.cfg.SMTPFrom, Username: a.cfg.SMTPUsername, Password: a.cfg.SMTPPassword},
		})
		a.wg.Add(1)
		go func() { defer a.wg.Done(); al.Run(ctx) }()
	}
}
