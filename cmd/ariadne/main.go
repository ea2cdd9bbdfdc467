// Command ariadne is the Ariadne server and command line.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ariadnehq/ariadne/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv})
	stop()
	os.Exit(code)
}
